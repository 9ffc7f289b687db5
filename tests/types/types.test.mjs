// The generated .d.ts: equal to the committed golden copy, and checked by tsc --strict --exactOptionalPropertyTypes on real usage.
// UPDATE_GOLDEN=1 npm test rewrites the golden copy after an intended API change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const generated = `${root}pkg/web/gemini_roadmap.d.ts`;
const golden = `${here}gemini_roadmap.d.ts.golden`;

function tsc(file) {
  const r = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '--strict', '--exactOptionalPropertyTypes', '--noEmit', '--target', 'es2022',
    '--module', 'es2022', '--moduleResolution', 'bundler', '--lib', 'es2022,dom,esnext.disposable', '--skipLibCheck', 'false', `${here}${file}`], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// The wasm's internal export names carry a hash of the code (`..._invoke__h60702a48838d1764`) that changes
// with any edit; they are not API, so they are compared without it.
const unhashed = (dts) => dts.replace(/__h[0-9a-f]{16}\b/g, '__h<hash>');

test('the generated declarations equal the golden copy', () => {
  const now = readFileSync(generated, 'utf8');
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden, now);
  assert.equal(unhashed(now), unhashed(readFileSync(golden, 'utf8')), 'the .d.ts changed: review it, then UPDATE_GOLDEN=1 npm test');
});

test('a strict TypeScript user compiles against them', () => {
  const r = tsc('usage.ts');
  assert.equal(r.code, 0, r.out);
});

test('null counts as not given in the declarations as at runtime, for every option, call option and stored signature', () => {
  const r = tsc('null-options.ts');
  assert.equal(r.code, 0, r.out);
});

for (const [file, expected] of [
  ['bad-option-name.ts', /wekks/],
  ['bad-option-type.ts', /Type 'string' is not assignable to type 'number'/],
  ['bad-event.ts', /Property 'week' does not exist/],
  ['bad-error-code.ts', /no overlap/],
]) {
  test(`${file} is rejected`, () => {
    const r = tsc(file);
    assert.notEqual(r.code, 0, `${file} must not compile`);
    assert.match(r.out, expected);
  });
}
