// scripts/shrink.mjs: the names the .wasm and its glue share are shortened in both, consistently.
// A hand-written module checks the rewrite itself; the shipped build checks that every import the
// .wasm asks for is one the glue provides (the other integration tests run that build).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionBodies, guardBeforeInit, guardFreed, inlineSnippets, leb, orderForGzip, readFileUrls, renameWasm, similarOrder, wasmNames } from '../../scripts/shrink.mjs';
import { DIST, ROOT, ensureDist } from './helpers.mjs';

const name = (s) => [s.length, ...Buffer.from(s)];
const section = (id, body) => [id, body.length, ...body];
// (import "./glue.js" "__wbg_answer_0123456789abcdef" (func (result i32)))
// (memory (export "memory") 1) (func (export "generate_answer") (result i32) call 0)
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 0, 1, 0x7f]),
  ...section(2, [1, ...name('./glue.js'), ...name('__wbg_answer_0123456789abcdef'), 0x00, 0]),
  ...section(3, [1, 0]),
  ...section(5, [1, 0x00, 1]),
  ...section(7, [2, ...name('memory'), 0x02, 0, ...name('generate_answer'), 0x00, 1]),
  ...section(10, [1, 4, 0, 0x10, 0, 0x0b]),
]);

test('renameWasm renames imports and exports and nothing else: the module still links and runs', async () => {
  assert.deepEqual(wasmNames(MODULE), {
    imports: [{ module: './glue.js', name: '__wbg_answer_0123456789abcdef' }],
    exports: ['memory', 'generate_answer'],
  });
  const short = renameWasm(MODULE, {
    importModule: () => 'a',
    importName: () => '$0',
    exportName: (n) => (n === 'memory' ? n : '$_0'),
  });
  assert.ok(short.length < MODULE.length);
  assert.deepEqual(wasmNames(short), { imports: [{ module: 'a', name: '$0' }], exports: ['memory', '$_0'] });
  const { instance } = await WebAssembly.instantiate(short, { a: { $0: () => 42 } });
  assert.equal(instance.exports.$_0(), 42);
  assert.ok(instance.exports.memory instanceof WebAssembly.Memory);
  // The old names are gone: linking with them fails.
  await assert.rejects(WebAssembly.instantiate(short, { './glue.js': { __wbg_answer_0123456789abcdef: () => 1 } }));
  // An export renamed to null is left out, the others kept.
  const fewer = renameWasm(MODULE, { exportName: (n) => (n === 'memory' ? null : n) });
  assert.deepEqual(wasmNames(fewer).exports, ['generate_answer']);
  const { instance: left } = await WebAssembly.instantiate(fewer, { './glue.js': { __wbg_answer_0123456789abcdef: () => 7 } });
  assert.equal(left.exports.generate_answer(), 7);
});

// (import "./glue.js" "ten" (func (result i32))); three exported functions, the first one calling the
// import and the third, whose body is like the first's: the order puts them side by side.
const CALLS = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 0, 1, 0x7f]),
  ...section(2, [1, ...name('./glue.js'), ...name('ten'), 0x00, 0]),
  ...section(3, [3, 0, 0, 0]),
  ...section(7, [3, ...name('a'), 0x00, 1, ...name('b'), 0x00, 2, ...name('c'), 0x00, 3]),
  ...section(10, [3,
    10, 0, 0x10, 0, 0x10, 3, 0x6a, 0x41, 1, 0x6a, 0x0b, // a: ten() + c() + 1
    4, 0, 0x41, 7, 0x0b, // b: 7
    10, 0, 0x10, 0, 0x10, 0, 0x6a, 0x41, 2, 0x6a, 0x0b, // c: ten() + ten() + 2
  ]),
]);

test('orderForGzip puts like bodies side by side, and every call and export still reaches its function', async () => {
  const { imported, bodies } = functionBodies(CALLS);
  assert.equal(imported, 1);
  assert.deepEqual(bodies.map((b) => b.length), [10, 4, 10]);
  const order = similarOrder(bodies);
  assert.deepEqual(order, [0, 2, 1], 'from the largest (the first of two ties), then the one most like it');
  const ordered = orderForGzip(CALLS);
  const after = functionBodies(ordered).bodies.map((b) => Buffer.from(b).toString('hex'));
  assert.notDeepEqual(after, bodies.map((b) => Buffer.from(b).toString('hex')), 'the bodies moved');
  const run = async (bytes) => {
    const { instance } = await WebAssembly.instantiate(bytes, { './glue.js': { ten: () => 10 } });
    const { a, b, c } = instance.exports;
    return [a(), b(), c()];
  };
  assert.deepEqual(await run(CALLS), [33, 7, 22]);
  assert.deepEqual(await run(ordered), [33, 7, 22]);
  assert.ok(!Buffer.from(ordered).includes(Buffer.from('name')), 'the names that carried the order are stripped');
});

test('the shipped web build: short shared names, minified glue, every import provided by the glue', async () => {
  await ensureDist();
  const wasm = readFileSync(join(DIST, 'web/gemini_roadmap_bg.wasm'));
  const glue = readFileSync(join(DIST, 'web/gemini_roadmap.js'), 'utf8');
  const { imports, exports } = wasmNames(wasm);
  assert.ok(imports.length > 50);
  assert.ok(imports.every((i) => i.module === 'a' && /^\$[0-9a-z]+$/.test(i.name)), JSON.stringify(imports.slice(0, 3)));
  assert.ok(!/__wbg_|__wbindgen_/.test(glue.replace(/this\.__wbg_ptr|__wbg_ptr/g, '')), 'no long names left in the glue');
  assert.ok(exports.includes('memory'), 'init() still returns exports.memory');
  assert.match(glue, /^\/\* @ts-self-types="\.\/gemini_roadmap\.d\.ts" \*\/\n/);
  assert.ok(glue.split('\n').length < 10, 'minified');
  for (const i of imports) assert.ok(glue.includes(`${i.name}:`), `the glue provides ${i.name}`);
  // What `init()` resolves to is typed with the names the module really exports.
  const types = readFileSync(join(DIST, 'web/gemini_roadmap.d.ts'), 'utf8');
  const initOutput = types.match(/export interface InitOutput \{([^}]*)\}/)[1];
  const typed = [...initOutput.matchAll(/readonly ([\w$]+):/g)].map((m) => m[1]);
  assert.ok(typed.length > 20 && typed.includes('memory'), initOutput);
  // Exactly those: wasm-bindgen's `__abort_handler` and `__instance_terminated` (for panic = "unwind" glue this
  // build does not have) are dropped by scripts/optimize.mjs, so nothing undeclared comes back either.
  assert.deepEqual([...exports].sort(), [...typed].sort(), 'InitOutput declares exactly what the module exports');
});

test('the shipped .wasm uses only the WebAssembly features of the README\'s oldest browsers (Chrome 96, Firefox 102, Safari 15)', async () => {
  await ensureDist();
  const { execFileSync } = await import('node:child_process');
  // Reference types came last, in Chrome 96: a toolchain update that starts emitting tail calls, extended-const
  // or exception handling would fail here before it fails for users.
  const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue'];
  const validate = (feats) => execFileSync(join(ROOT, 'node_modules', '.bin', 'wasm-opt'),
    [join(DIST, 'web/gemini_roadmap_bg.wasm'), '--mvp-features', ...feats.map((f) => `--enable-${f}`), '-o', '/dev/null'], { stdio: 'pipe' });
  validate(features);
  assert.throws(() => validate(features.filter((f) => f !== 'reference-types')), 'reference types are used: the Chrome 96 floor is real');
});

test('guardBeforeInit refuses glue it does not recognise, so a wasm-bindgen update cannot drop the guard unnoticed', () => {
  const load = 'const { instance, module } = await __wbg_load(await module_or_path, imports);';
  const glue = `let wasmModule, wasmInstance, wasm;\nfunction a() { if (wasm !== undefined) return wasm; }\nfunction b() { if (wasm !== undefined) return wasm; }\nasync function c() { ${load} }`;
  const guarded = guardBeforeInit(glue);
  assert.match(guarded, /wasm = NOT_READY;/);
  assert.equal(guarded.match(/wasm !== NOT_READY/g).length, 3, 'the two checks, and one after the load');
  assert.throws(() => guardBeforeInit(glue.replace(load, '')), /no longer loads/);
  assert.throws(() => guardBeforeInit(glue.replace('wasm;', 'wasm = undefined;')), /no longer declares/);
  assert.throws(() => guardBeforeInit(glue.replace(/wasm !== undefined/, 'wasm === undefined')), /no longer declares/);
});

test('readFileUrls reads a file: URL or string with node:fs, fetches anything else, and refuses glue it does not recognise', async () => {
  const glue = "let module_or_path = input;\nif (typeof module_or_path === 'string' || module_or_path instanceof URL) {\n    module_or_path = fetch(module_or_path);\n}";
  const patched = readFileUrls(glue);
  assert.match(patched, /module_or_path = fetchWasmOrFile\(module_or_path\);/);
  const load = new Function('input', 'fetch', `${patched}\nreturn module_or_path;`);
  const fetched = [];
  const fakeFetch = (x) => { fetched.push(String(x)); return 'fetched'; };
  const wasm = new URL('../../dist/web/gemini_roadmap_bg.wasm', import.meta.url);
  await ensureDist();
  const bytes = readFileSync(wasm);
  assert.deepEqual(await load(wasm, fakeFetch), bytes, 'a file: URL is read from disk');
  assert.deepEqual(await load(wasm.href, fakeFetch), bytes, 'a file: string too');
  assert.deepEqual(await load(wasm.href.replace(/^file:/, 'FILE:'), fakeFetch), bytes, 'a scheme is case-insensitive');
  assert.equal(load('https://cdn.example/gemini_roadmap_bg.wasm', fakeFetch), 'fetched');
  assert.equal(load(new URL('http://127.0.0.1:1/x.wasm'), fakeFetch), 'fetched');
  assert.deepEqual(fetched, ['https://cdn.example/gemini_roadmap_bg.wasm', 'http://127.0.0.1:1/x.wasm']);
  assert.throws(() => readFileUrls(glue.replace('fetch(module_or_path)', 'fetch(url)')), /no longer fetches/);
});

test('inlineSnippets moves an inline_js snippet into the glue: web imports object or bundler _bg.js, no snippets/ left', () => {
  const snippet = 'const F = {};\nexport function tryIt(f) { try { return f(); } catch (e) { return F; } }\n';
  const webGlue = `/* @ts-self-types="./x.d.ts" */
import * as import1 from "./snippets/c-0a/inline0.js"
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_x_1: function() {},
    };
    return {
        __proto__: null,
        "./gemini_roadmap_bg.js": import0,
        "./snippets/c-0a/inline0.js": import1,
    };
}`;
  const dir = mkdtempSync(join(tmpdir(), 'snippets-'));
  const at = (d) => { mkdirSync(join(d, 'snippets', 'c-0a'), { recursive: true }); writeFileSync(join(d, 'snippets', 'c-0a', 'inline0.js'), snippet); return d; };
  try {
    const web = new Map([['web.js', webGlue]]);
    assert.deepEqual([...inlineSnippets(at(join(dir, 'web')), web, true)], ['./snippets/c-0a/inline0.js']);
    const js = web.get('web.js');
    assert.ok(!js.includes('snippets') && !js.includes('import1'), js);
    assert.match(js, /__proto__: null,\n\s*tryIt,\n\s*__wbg_x_1/);
    assert.match(js, /\nconst F = \{\};\nfunction tryIt\(f\)/);
    assert.ok(!existsSync(join(dir, 'web', 'snippets')));
    const bundler = new Map([['gemini_roadmap.js', 'export {};'], ['gemini_roadmap_bg.js', 'export function __wbg_x_1() {}']]);
    inlineSnippets(at(join(dir, 'bundler')), bundler, false);
    assert.equal(bundler.get('gemini_roadmap.js'), 'export {};');
    assert.match(bundler.get('gemini_roadmap_bg.js'), /export function tryIt\(f\)/);
    // A snippet the glue's names clash with, or that is not plain exported functions, stops the build.
    assert.throws(() => inlineSnippets(at(join(dir, 'clash')), new Map([['web.js', webGlue.replace('__wbg_x_1', 'tryIt')]]), true), /already used/);
    const odd = at(join(dir, 'odd'));
    writeFileSync(join(odd, 'snippets', 'c-0a', 'inline0.js'), 'export const x = 1;\n');
    assert.throws(() => inlineSnippets(odd, new Map([['web.js', webGlue]]), true), /not a snippet/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('guardFreed makes free() idempotent and names FREED, and refuses glue it does not recognise', () => {
  const glue = `class C { free() {
        const ptr = this.__destroy_into_raw();
        wasm.$_0(ptr, 0);
    } }
const imports = { t: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        } };`;
  const guarded = guardFreed(glue);
  assert.match(guarded, /if \(ptr\) wasm\.\$_0\(ptr, 1\);/, 'freed at once, or when the call holding it returns');
  assert.match(guarded, /code: 'FREED'/);
  assert.throws(() => guardFreed(glue.replace('wasm.$_0(ptr, 0)', 'wasm.$_0(ptr)')), /no longer writes/);
  assert.throws(() => guardFreed(glue.replace('throw new Error', 'throw Error')), /no longer writes/);
});

test('zeroDeadLocations zeroes only panic locations nothing uses and the file names only they named', async () => {
  const { zeroDeadLocations } = await import('../../scripts/optimize.mjs');
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const le = (n) => [0, 8, 16, 24].map((s) => `\\${((n >>> s) & 0xff).toString(16).padStart(2, '0')}`).join('');
  const location = (file, len, line, col) => le(file) + le(len) + le(line) + le(col);
  const crate = 'base64-0.22.1/src/engine/mod.rs';
  const wat = `(module (memory (export "memory") 1)
    (func (export "msg") (result i32) i32.const 1024)
    (func (export "live") (result i32) i32.const 2116)
    (func (export "crate") (result i32) i32.const 2300)
    (data (i32.const 1024) "Edit src/main.rs and run cargo\\00")
    (data (i32.const 2048) "\\00src/dead.rs\\00")
    (data (i32.const 2064) "${location(2049, 11, 5, 7)}")
    (data (i32.const 2100) "\\00src/live.rs\\00")
    (data (i32.const 2116) "${location(2101, 11, 9, 3)}")
    (data (i32.const 2200) "\\00${crate}\\00")
    (data (i32.const 2300) "${location(2201, crate.length, 12, 4)}"))`;
  const dir = mkdtempSync(join(tmpdir(), 'zero-'));
  try {
    writeFileSync(join(dir, 'm.wat'), wat);
    execFileSync(join(ROOT, 'node_modules', '.bin', 'wasm-as'), [join(dir, 'm.wat'), '-o', join(dir, 'm.wasm')]);
    const before = readFileSync(join(dir, 'm.wasm'));
    const { bytes, locations, names } = zeroDeadLocations(before);
    assert.deepEqual({ locations, names }, { locations: 1, names: 1 });
    const { instance } = await WebAssembly.instantiate(bytes);
    const mem = Buffer.from(instance.exports.memory.buffer);
    const text = (at, len) => mem.toString('latin1', at, at + len);
    assert.equal(text(1024, 30), 'Edit src/main.rs and run cargo', 'a path inside a used message is kept');
    assert.ok(mem.subarray(2049, 2060).every((b) => b === 0), 'the dead location\'s file name is zeroed');
    assert.ok(mem.subarray(2064, 2080).every((b) => b === 0), 'the dead location is zeroed');
    assert.equal(text(2101, 11), 'src/live.rs');
    assert.deepEqual([mem.readUInt32LE(2116), mem.readUInt32LE(2124)], [2101, 9], 'a used location is kept');
    assert.equal(text(2201, crate.length), crate, 'a crate path with digits is kept whole, not cut at its src/ tail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deadFmt traps core::fmt only when no live function outside it calls it (or could, through to_string)', async () => {
  const { deadFmt } = await import('../../scripts/optimize.mjs');
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'fmt-'));
  const build = (body) => {
    writeFileSync(join(dir, 'm.wat'), `(module
      (func $core::fmt::write (result i32) i32.const 1)
      (func $<u32$as$core::fmt::Display>::fmt (result i32) call $core::fmt::write)
      ;; kept alive by the function table only, as vtables keep them in the real module
      (table (export "table") 2 funcref) (elem (i32.const 0) $core::fmt::write $<u32$as$core::fmt::Display>::fmt)
      ${body})`);
    execFileSync(join(ROOT, 'node_modules', '.bin', 'wasm-as'), ['-g', join(dir, 'm.wat'), '-o', join(dir, 'm.wasm')]);
    return deadFmt(readFileSync(join(dir, 'm.wasm')));
  };
  try {
    // a live export that never enters core::fmt: both fmt functions may trap
    const dead = build('(func $answer (export "answer") (result i32) i32.const 42)');
    assert.deepEqual([...dead.names].sort(), ['<u32$as$core::fmt::Display>::fmt', 'core::fmt::write']);
    assert.deepEqual(dead.callers, []);
    // a live caller (what a format! would be): nothing traps, and the caller is named
    const live = build('(func $message (export "message") (result i32) call $core::fmt::write)');
    assert.deepEqual([...live.names], []);
    assert.deepEqual(live.callers, ['message']);
    // a live to_string (it may reach fmt through a vtable, unseen): nothing traps either
    const dyn = build('(func $alloc::string::ToString::to_string (export "s") (result i32) i32.const 0)');
    assert.deepEqual([...dyn.names], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exportStackPointer exports the one mutable i32 global as $sp, past imported globals, and refuses a module with two', async () => {
  const { exportStackPointer } = await import('../../scripts/optimize.mjs');
  const vec = (items) => [...leb(items.length), ...items.flat()];
  const i32 = (n) => [0x41, ...sleb(n), 0x0b];
  /** A module reading `read` from `f`; `globals`: [mutable, value]; `imported`: how many globals it imports first. */
  const module = (globals, imported, read) => Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, 0, 1, 0x7f]])),
    ...(imported ? section(2, vec(Array.from({ length: imported }, (_, i) => [...name('m'), ...name(`g${i}`), 3, 0x7f, 0]))) : []),
    ...section(3, vec([[0]])),
    ...section(6, vec(globals.map(([mutable, value]) => [0x7f, mutable ? 1 : 0, ...i32(value)]))),
    ...section(7, vec([[...name('f'), 0, 0]])),
    ...section(10, vec([[...leb(4), 0, 0x23, read, 0x0b]]))]);
  // 11 is the initializer's end opcode: a value that looks like it must not end the parse.
  const plain = module([[0, 11], [1, 1048576], [0, -5]], 0, 1);
  const { instance } = await WebAssembly.instantiate(exportStackPointer(plain));
  assert.ok(instance.exports.$sp instanceof WebAssembly.Global);
  assert.equal(instance.exports.$sp.value, 1048576);
  instance.exports.$sp.value = 7;
  assert.equal(instance.exports.f(), 7, 'the export is the global the code reads');
  const withImports = module([[1, 4096]], 2, 2);
  const linked = await WebAssembly.instantiate(exportStackPointer(withImports), { m: { g0: 1, g1: 2 } });
  assert.equal(linked.instance.exports.$sp.value, 4096, 'indices count the imported globals');
  assert.throws(() => exportStackPointer(module([[1, 1], [1, 2]], 0, 0)), /one mutable i32 global/);
  assert.throws(() => exportStackPointer(exportStackPointer(plain)), /exported already/);
});

function sleb(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}
