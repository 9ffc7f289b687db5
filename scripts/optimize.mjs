// Optimizes a wasm-pack build in place with binaryen (what wasm-pack's own `wasm-opt` step did, with the same
// passes), after making std's panic entry points trap at once.
//
// With `panic = "abort"` on wasm32-unknown-unknown a panic already ends in a trap (`unreachable`): std formats the
// message, hands it to the default hook, which writes it to a stderr that discards it, then aborts, which is
// `unreachable`. No hook is set (the crate sets none; wasm-bindgen's abort handler is for panic=unwind). So the
// entry points below trapping at once behave the same to JavaScript (the same `RuntimeError: unreachable`), and
// binaryen then drops the message formatting, payloads and hook behind them and the argument set-up at every
// panic site: what `panic = "immediate-abort"` would do, without rebuilding std on a nightly toolchain.
// Usage: node scripts/optimize.mjs pkg/web pkg/bundler      (run by scripts/build.sh after wasm-pack)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { leb, reader, sections } from './shrink.mjs';

const NAME = 'gemini_roadmap';
const LOCAL_WASM_OPT = fileURLToPath(new URL('../node_modules/.bin/wasm-opt', import.meta.url));
const WASM_OPT = existsSync(LOCAL_WASM_OPT) ? LOCAL_WASM_OPT : 'wasm-opt';

/** binaryen's passes for the release build (formerly wasm-pack's `wasm-opt` list in Cargo.toml). */
export const WASM_OPT_PASSES = [
  '--merge-similar-functions', '--flatten', '--rereloop', '-Oz', '-Oz', '--enable-bulk-memory',
  '--enable-nontrapping-float-to-int', '--strip-debug', '--strip-producers', '--strip-target-features',
];

/**
 * The functions made to trap at once, by their name in the module's name section (crate hashes left out):
 * every panic of core and alloc goes through `panic_fmt`; std's own `panic!`s and a failed allocation reach
 * the hook through the others. `required`: missing means the toolchain changed and the list needs a look.
 */
const TRAPS = [
  { re: /^core(\[[0-9a-f]+\])?::panicking::panic_fmt$/, required: true },
  { re: /^std(\[[0-9a-f]+\])?::panicking::(rust_)?panic_with_hook$/, required: true },
  { re: /^std(\[[0-9a-f]+\])?::alloc::rust_oom$/, required: false },
  { re: /^alloc(\[[0-9a-f]+\])?::alloc::handle_alloc_error$/, required: false },
];

const IMPORTS = 2;
const CODE = 10;

/** Function index → name, from the `name` custom section. */
function functionNames(all) {
  const names = new Map();
  for (const { id, bytes } of all) {
    if (id !== 0) continue;
    const r = reader(bytes, 1);
    const end = r.u32() + r.pos;
    if (r.name() !== 'name') continue;
    while (r.pos < end) {
      const sub = bytes[r.pos++];
      const subEnd = r.u32() + r.pos;
      if (sub === 1) {
        for (let n = r.u32(); n > 0; n--) {
          const idx = r.u32();
          names.set(idx, r.name());
        }
      }
      r.pos = subEnd;
    }
  }
  return names;
}

/** The module with the bodies of the [`TRAPS`] functions replaced by `unreachable`; throws when a required one is missing. */
export function trapPanics(bytes, label = '') {
  const all = sections(bytes);
  const names = functionNames(all);
  if (names.size === 0) throw new Error(`${label}: no function names (wasm-bindgen should keep them)`);
  const imported = all.filter((s) => s.id === IMPORTS).flatMap((s) => s.entries).filter((e) => e.desc[0] === 0).length;
  const targets = new Set();
  for (const { re, required } of TRAPS) {
    const hits = [...names].filter(([, n]) => re.test(n)).map(([i]) => i);
    if (hits.length === 0 && required) throw new Error(`${label}: no function named like ${re}`);
    for (const i of hits) {
      if (i < imported) throw new Error(`${label}: ${names.get(i)} is imported`);
      targets.add(i - imported);
    }
  }
  const out = [bytes.subarray(0, 8)];
  for (const { id, bytes: raw } of all) {
    if (id !== CODE) {
      out.push(raw);
      continue;
    }
    const r = reader(raw, 1);
    r.u32();
    const count = r.u32();
    const body = [leb(count)];
    for (let i = 0; i < count; i++) {
      const len = r.u32();
      // No locals, `unreachable`, `end`.
      const fn = targets.has(i) ? Uint8Array.of(0x00, 0x00, 0x0b) : raw.subarray(r.pos, r.pos + len);
      body.push(leb(fn.length), fn);
      r.pos += len;
    }
    const payload = Buffer.concat(body.map((b) => Uint8Array.from(b)));
    out.push(Uint8Array.from([CODE, ...leb(payload.length)]), payload);
  }
  return { bytes: Buffer.concat(out), trapped: targets.size };
}

export function optimize(dir) {
  const wasmPath = `${dir}/${NAME}_bg.wasm`;
  const { bytes, trapped } = trapPanics(readFileSync(wasmPath), dir);
  const tmp = mkdtempSync(join(tmpdir(), 'optimize-'));
  try {
    writeFileSync(join(tmp, 'in.wasm'), bytes);
    execFileSync(WASM_OPT, [...WASM_OPT_PASSES, join(tmp, 'in.wasm'), '-o', wasmPath]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return trapped;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of process.argv.slice(2)) {
    const n = optimize(dir);
    console.error(`[optimize] ${dir}: ${n} panic entry points trap at once; wasm-opt ${WASM_OPT_PASSES.join(' ')}`);
  }
}
