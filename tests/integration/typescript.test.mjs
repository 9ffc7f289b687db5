// The shipped .d.ts as a TypeScript user meets it: the package installed from its tarball into
// tests/integration/apps/typescript, resolved through the "exports" map, checked by `tsc --strict --noEmit`
// with a plain user's lib (es2022 + dom) and skipLibCheck off, so our declarations are checked too.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packTarball, prepareApp, run } from './helpers.mjs';

let app;

before(async () => {
  const tarball = await packTarball('typescript');
  app = await prepareApp('typescript', { tarball });
});

function tsc(file, resolution = ['--module', 'esnext', '--moduleResolution', 'bundler']) {
  return run(
    join(app, 'node_modules', '.bin', 'tsc'),
    ['--strict', '--noEmit', '--target', 'es2022', ...resolution, '--lib', 'es2022,dom', '--skipLibCheck', 'false', file],
    { cwd: app, allowFail: true, timeoutMs: 120_000 },
  );
}

test('a correct strict usage compiles (moduleResolution bundler: ".", "./web", "./bundler")', () => {
  const r = tsc('src/ok.ts');
  assert.equal(r.code, 0, r.output);
});

test('a correct strict usage compiles (moduleResolution nodenext)', () => {
  const r = tsc('src/ok.ts', ['--module', 'nodenext', '--moduleResolution', 'nodenext']);
  assert.equal(r.code, 0, r.output);
});

test('a misspelt option (wekks: 3) does not compile', () => {
  const r = tsc('src/wrong-option.ts');
  assert.notEqual(r.code, 0, 'tsc must fail');
  assert.match(r.output, /src\/wrong-option\.ts\(\d+,\d+\): error TS(2353|2561): Object literal may only specify known properties.*'wekks' does not exist in type 'GenerateRoadmapOptions'/);
  assert.doesNotMatch(r.output, /node_modules\/gemini-roadmap/, 'no error inside the package itself');
});

test('a wrongly typed option (weeks: "3") does not compile', () => {
  const r = tsc('src/wrong-type.ts');
  assert.notEqual(r.code, 0, 'tsc must fail');
  assert.match(r.output, /src\/wrong-type\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  assert.doesNotMatch(r.output, /node_modules\/gemini-roadmap/, 'no error inside the package itself');
});
