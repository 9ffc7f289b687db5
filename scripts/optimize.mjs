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

import { CODE, EXPORTS, binaryen, encodeName, importCount, leb, reader, readGlue, renameWasm, sections, wasmNames, wasmReads } from './shrink.mjs';

const NAME = 'gemini_roadmap';
const WASM_OPT = binaryen('wasm-opt');
const WASM_DIS = binaryen('wasm-dis');

/**
 * binaryen's passes for the release build (formerly wasm-pack's `wasm-opt` list in Cargo.toml).
 * `--low-memory-unused` lets binaryen fold a constant under 1 KB into a load's or store's offset (`x + 8` →
 * `offset=8`). The result differs only when `x + 8` wraps past 2^32, i.e. when `x` is within 1 KB of 2^32: no pointer
 * of this module is (memory is far smaller), and Rust's stack, at the bottom of memory, only gets such an `x` by
 * overflowing below 0, where the access traps either way or corrupts. A third `-Oz` cleans up after those folds.
 */
export const WASM_OPT_PASSES = [
  '--low-memory-unused', '--merge-similar-functions', '--flatten', '--rereloop', '-Oz', '-Oz', '-Oz', '--enable-bulk-memory',
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

const DATA = 11;

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

/**
 * `core::fmt`'s machinery by name, and std's panic payloads (formatted only by the panic handler, which traps).
 * The crate builds its messages without `core::fmt` (`text::Piece`), yet ~3.5 KB of it stays in the wasm: the
 * function table keeps `<u32 as Display>::fmt`, `fmt::write`, `Formatter::pad`... alive, because vtables and
 * the formatting arguments of panic messages (never formatted now) hold their table indices.
 */
const FMT = /::fmt::|^<std(\[[0-9a-f]+\])?::panicking::panic_handler::(FormatString|StaticStr)Payload as /;

/**
 * The [`FMT`] functions to trap as well, by name: all of them when no other function that is still reachable
 * (once the panics trap) calls any of them directly, else none. Only `core::fmt` itself can make a `Formatter`
 * and so call a `fmt` method or write through `dyn fmt::Write` (`to_string()` on a `Display` type calls its `fmt`
 * directly): if nothing outside it enters it, no formatting can happen. `callers` names the functions outside
 * that do, when there are any (a `format!`, `write!` or `to_string()` on a `Display` type came back).
 */
export function deadFmt(bytes) {
  const tmp = mkdtempSync(join(tmpdir(), 'fmt-'));
  try {
    writeFileSync(join(tmp, 'in.wasm'), bytes);
    execFileSync(WASM_OPT, ['--remove-unused-module-elements', '-g', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', join(tmp, 'in.wasm'), '-o', join(tmp, 'live.wasm')]);
    const text = execFileSync(WASM_DIS, [join(tmp, 'live.wasm')], { maxBuffer: 1 << 28 }).toString();
    const id = (s) => (s.startsWith('"') ? JSON.parse(s) : s);
    const fmt = new Set();
    const callers = new Set();
    let fn = '';
    for (const m of text.matchAll(/\(func \$("(?:[^"\\]|\\.)*"|\S+)|\b(?:return_)?call \$("(?:[^"\\]|\\.)*"|\S+)/g)) {
      if (m[1]) {
        fn = id(m[1]);
        if (FMT.test(fn)) fmt.add(fn);
        // `to_string()` on a `dyn Display` makes its Formatter inline and calls `fmt` through the vtable, which no
        // direct call shows: any live `ToString` keeps core::fmt.
        else if (/\bto_string\b|ToString/.test(fn)) callers.add(fn);
      } else if (FMT.test(id(m[2])) && !FMT.test(fn)) {
        callers.add(fn);
      }
    }
    return { names: callers.size ? new Set() : fmt, callers: [...callers] };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The module with the bodies of the [`TRAPS`] functions, and of those named in `also`, replaced by
 * `unreachable`; throws when a required one is missing.
 */
export function trapPanics(bytes, label = '', also = new Set()) {
  const all = sections(bytes);
  const names = functionNames(all);
  if (names.size === 0) throw new Error(`${label}: no function names (wasm-bindgen should keep them)`);
  const imported = importCount(all, 0);
  const targets = new Set();
  for (const { re, required } of TRAPS) {
    const hits = [...names].filter(([, n]) => re.test(n)).map(([i]) => i);
    if (hits.length === 0 && required) throw new Error(`${label}: no function named like ${re}`);
    for (const i of hits) {
      if (i < imported) throw new Error(`${label}: ${names.get(i)} is imported`);
      targets.add(i - imported);
    }
  }
  for (const [i, n] of names) if (also.has(n) && i >= imported) targets.add(i - imported);
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

/** The active data segments of a module: `{ at, start, end }` (memory address, byte range in `bytes`). */
function dataSegments(all, bytes) {
  const segs = [];
  for (const { id, bytes: raw } of all) {
    if (id !== DATA) continue;
    const base = raw.byteOffset - bytes.byteOffset;
    const r = reader(raw, 1);
    r.u32();
    for (let n = r.u32(); n > 0; n--) {
      const flags = r.u32();
      if (flags !== 0 || raw[r.pos] !== 0x41) throw new Error(`data segment with flags ${flags}: not handled`);
      r.pos++;
      let at = 0;
      let shift = 0;
      for (;;) {
        const b = raw[r.pos++];
        at |= (b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
          if (shift < 32 && b & 0x40) at |= -1 << shift;
          break;
        }
      }
      if (raw[r.pos++] !== 0x0b) throw new Error('data segment offset is not one i32.const');
      const len = r.u32();
      segs.push({ at: at >>> 0, start: base + r.pos, end: base + r.pos + len });
      r.pos += len;
    }
  }
  return segs;
}

/**
 * Zeroes the panic locations (`core::panic::Location`: file, line, column) and their file names once nothing
 * refers to them any more: after [`trapPanics`] no code passes a location, but binaryen cannot know which data
 * is dead. A location is found as a (pointer, length) pair naming a source file followed by a plausible line
 * and column; it and its file name are zeroed only when no `i32.const` or load/store offset in the code, and
 * no 4-byte word in the data, points into them. A file name counts only as a whole string (a 0 byte or a segment
 * edge on both sides, as rustc writes them) and is zeroed only if a zeroed location named it: a path inside a
 * message that is still used (`"Edit src/main.rs and run"`), or the tail of a longer name, is never touched.
 * `memory-packing` then leaves the zeros out.
 */
export function zeroDeadLocations(bytes) {
  const out = Buffer.from(bytes);
  const segs = dataSegments(sections(out), out);
  const segOf = (pos) => segs.find((g) => pos >= g.start && pos < g.end);
  const addrOf = (pos) => {
    const s = segOf(pos);
    return s ? s.at + (pos - s.start) : -1;
  };
  const posOf = (addr) => {
    const s = segs.find((g) => addr >= g.at && addr < g.at + (g.end - g.start));
    return s ? s.start + (addr - s.at) : -1;
  };
  const text = execFileSync(WASM_DIS, ['-'], { input: out, maxBuffer: 1 << 28 }).toString();
  // Everything but the data segments (binaryen prints them before the functions, one line each).
  const code = text.split('\n').filter((l) => !l.startsWith(' (data ')).join('\n');
  const codeRefs = [...code.matchAll(/i32\.const (-?\d+)|offset=(\d+)/g)].map((m) => Number(m[1] ?? m[2]) >>> 0);
  const dataWords = () => {
    const words = [];
    for (const g of segs) for (let p = g.start; p + 4 <= g.end; p++) words.push(out.readUInt32LE(p));
    return words;
  };
  /** Whether any of `values` points into `[addr, addr + len)`. */
  const into = (values, addr, len) => values.some((v) => v >= addr && v < addr + len);
  const latin = out.toString('latin1');
  const files = new Map();
  for (const m of latin.matchAll(/(?:src\/[a-z0-9_/]+|\/rustc\/[0-9a-f]+\/library\/[a-z0-9_/]+|[a-z0-9_-]+-\d+\.\d+\.\d+\/src\/[a-z0-9_/]+)\.rs/g)) {
    const seg = segOf(m.index);
    const end = m.index + m[0].length;
    const whole = seg && (m.index === seg.start || out[m.index - 1] === 0) && (end === seg.end || out[end] === 0);
    if (whole) files.set(addrOf(m.index), m[0].length);
  }
  const locations = [];
  for (const g of segs) {
    for (let p = g.start; p + 16 <= g.end; p += 4) {
      const len = files.get(out.readUInt32LE(p));
      const line = out.readUInt32LE(p + 8);
      const col = out.readUInt32LE(p + 12);
      if (len !== undefined && out.readUInt32LE(p + 4) === len && line > 0 && line < 1e5 && col > 0 && col < 1e3) {
        locations.push(p);
      }
    }
  }
  const words = dataWords();
  const dead = locations.filter((p) => !into(codeRefs, addrOf(p), 16) && !into(words, addrOf(p), 16));
  const named = new Set(dead.map((p) => out.readUInt32LE(p)));
  for (const p of dead) out.fill(0, p, p + 16);
  // A file name a zeroed location named is dead once nothing else points into it.
  const after = dataWords();
  let names = 0;
  for (const [addr, len] of files) {
    if (!named.has(addr) || into(codeRefs, addr, len) || into(after, addr, len)) continue;
    out.fill(0, posOf(addr), posOf(addr) + len);
    names++;
  }
  return { bytes: out, locations: dead.length, names };
}

/**
 * The module without the exports its glue never reads (`memory` stays: apps read it from what `init()` returns).
 * wasm-bindgen exports `__abort_handler` and `__instance_terminated` for its panic = "unwind" catch wrappers, which
 * a panic = "abort" build's glue does not have; `InitOutput` does not declare them either. Dropped before binaryen,
 * so what only they kept goes too.
 */
export function dropUnreadExports(bytes, dir) {
  const read = wasmReads([...readGlue(dir).values()].join('\n'));
  const dropped = wasmNames(bytes).exports.filter((e) => e !== 'memory' && !read.has(e));
  return { bytes: renameWasm(bytes, { exportName: (n) => (dropped.includes(n) ? null : n) }), dropped };
}

const GLOBALS = 6;
/** What the package's promise driver reads to put the shadow stack back after a JavaScript throw (src/web/mod.rs). */
export const STACK_POINTER_EXPORT = '$sp';

/**
 * The module with its one mutable global, the shadow stack pointer Rust keeps, exported as `$sp`. A JavaScript
 * exception that unwinds through the wasm skips the epilogues that give stack frames back: without a reset, each
 * throw leaked about 2.5 KB of the 1 MB stack, and some 400 throws later the instance broke.
 */
export function exportStackPointer(bytes) {
  const all = sections(bytes);
  const importedGlobals = importCount(all, 3);
  const mutable = [];
  for (const { bytes: raw } of all.filter((s) => s.id === GLOBALS)) {
    const r = reader(raw, 1);
    r.u32();
    for (let n = r.u32(), i = 0; i < n; i++) {
      const type = raw[r.pos++];
      if (raw[r.pos++] === 1) mutable.push({ index: importedGlobals + i, type });
      for (;;) {
        const op = raw[r.pos++];
        if (op === 0x0b) break;
        if (op === 0x41 || op === 0x42) while (raw[r.pos++] & 0x80);
        else if (op === 0x23 || op === 0xd2) r.u32();
        else if (op === 0x43) r.pos += 4;
        else if (op === 0x44) r.pos += 8;
        else if (op === 0xd0) r.pos++;
        else throw new Error(`global ${i}: unexpected opcode 0x${op.toString(16)} in its initializer`);
      }
    }
  }
  if (mutable.length !== 1 || mutable[0].type !== 0x7f) throw new Error(`expected one mutable i32 global (the stack pointer), found ${JSON.stringify(mutable)}`);
  const out = [bytes.subarray(0, 8)];
  for (const { id, bytes: raw, entries } of all) {
    if (id !== EXPORTS) {
      out.push(raw);
      continue;
    }
    if (entries.some((e) => e.name === STACK_POINTER_EXPORT)) throw new Error(`${STACK_POINTER_EXPORT} is exported already`);
    const r = reader(raw, 1);
    r.u32();
    r.u32();
    const body = [...leb(entries.length + 1), ...raw.subarray(r.pos), ...encodeName(STACK_POINTER_EXPORT), 3, ...leb(mutable[0].index)];
    out.push(Uint8Array.from([id, ...leb(body.length), ...body]));
  }
  return Buffer.concat(out);
}

/** `$sp` beside `memory` where the module's exports are typed: `InitOutput` (web), `_bg.wasm.d.ts` (bundler). */
function declareStackPointer(dir) {
  for (const [dts, memory, sp] of [
    [`${dir}/${NAME}.d.ts`, '    readonly memory: WebAssembly.Memory;\n', `    readonly ${STACK_POINTER_EXPORT}: WebAssembly.Global;\n`],
    [`${dir}/${NAME}_bg.wasm.d.ts`, 'export const memory: WebAssembly.Memory;\n', `export const ${STACK_POINTER_EXPORT}: WebAssembly.Global;\n`],
  ]) {
    if (!existsSync(dts)) continue;
    const text = readFileSync(dts, 'utf8');
    if (!text.includes(memory)) {
      if (dts.endsWith('_bg.wasm.d.ts') || text.includes('InitOutput')) throw new Error(`${dts}: no \`memory\` export declared`);
      continue;
    }
    writeFileSync(dts, text.replace(memory, () => memory + sp));
  }
}

export function optimize(dir) {
  const wasmPath = `${dir}/${NAME}_bg.wasm`;
  const { bytes: original, dropped } = dropUnreadExports(readFileSync(wasmPath), dir);
  const fmt = deadFmt(trapPanics(original, dir).bytes);
  const { bytes: trappedBytes, trapped } = trapPanics(original, dir, fmt.names);
  const bytes = exportStackPointer(trappedBytes);
  const tmp = mkdtempSync(join(tmpdir(), 'optimize-'));
  try {
    writeFileSync(join(tmp, 'in.wasm'), bytes);
    execFileSync(WASM_OPT, [...WASM_OPT_PASSES, join(tmp, 'in.wasm'), '-o', join(tmp, 'opt.wasm')]);
    const zeroed = zeroDeadLocations(readFileSync(join(tmp, 'opt.wasm')));
    writeFileSync(join(tmp, 'zeroed.wasm'), zeroed.bytes);
    execFileSync(WASM_OPT, ['--memory-packing', '--optimize-level', '2', '--shrink-level', '2', '--generate-stack-ir', '--optimize-stack-ir', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-reference-types', '--enable-multivalue', join(tmp, 'zeroed.wasm'), '-o', wasmPath]);
    declareStackPointer(dir);
    return { trapped, dropped, fmt: fmt.names.size, fmtCallers: fmt.callers, ...zeroed, bytes: undefined };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of process.argv.slice(2)) {
    const n = optimize(dir);
    console.error(`[optimize] ${dir}: ${n.trapped} panic entry points and core::fmt functions trap at once (${n.fmt} of core::fmt), ${n.locations} panic locations and ${n.names} file names zeroed, exports the glue never reads dropped (${n.dropped.join(', ') || 'none'}); wasm-opt ${WASM_OPT_PASSES.join(' ')}`);
    if (n.fmtCallers.length) console.error(`[optimize] ${dir}: core::fmt stays in: called by ${n.fmtCallers.slice(0, 5).join(', ')}${n.fmtCallers.length > 5 ? ` and ${n.fmtCallers.length - 5} more` : ''}`);
  }
}
