// Shrinks a wasm-pack build in place, the way a minifying bundler would, so that what ships is what a web
// app serves: the names the .wasm and its JS glue share (77 imports such as `__wbg_fetch_786db33e181960bd`,
// the exports the glue calls) become `$0`, `$1`, ... in both, and the glue is minified with esbuild.
// The function bodies are also reordered so that like ones sit together, which gzip rewards.
// Behaviour is unchanged: the same functions are wired to each other, only names and order differ; except
// that the web glue, used before `init()`, throws a `GeminiRoadmapError` (`NOT_INITIALIZED`) saying so, its
// `init()` reads a `file:` URL (its default `.wasm` location in Node) with `node:fs` (`readFileUrls`), and a
// freed `GeminiChat` may be freed again and throws `FREED` when called (`guardBeforeInit`, `guardFreed`).
// Usage: node scripts/shrink.mjs pkg/web pkg/bundler      (run by scripts/build.sh after wasm-pack)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'gemini_roadmap';
const GLUE_MODULE = `./${NAME}_bg.js`;

export function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** A cursor over wasm bytes: LEB128 numbers and length-prefixed names. */
export function reader(bytes, pos = 0) {
  const r = {
    pos,
    u32() {
      let n = 0;
      let shift = 0;
      for (;;) {
        const b = bytes[r.pos++];
        n |= (b & 0x7f) << shift;
        if (!(b & 0x80)) return n >>> 0;
        shift += 7;
      }
    },
    name() {
      const len = r.u32();
      const s = new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len));
      r.pos += len;
      return s;
    },
    /** Skips an import's description (func, table, memory, global, tag). */
    importDesc() {
      const kind = bytes[r.pos++];
      const limits = () => {
        const flags = bytes[r.pos++];
        r.u32();
        if (flags & 1) r.u32();
      };
      if (kind === 0) r.u32();
      else if (kind === 1) { r.pos++; limits(); }
      else if (kind === 2) limits();
      else if (kind === 3) r.pos += 2;
      else if (kind === 4) { r.pos++; r.u32(); }
      else throw new Error(`unknown import kind ${kind}`);
    },
  };
  return r;
}

export const encodeName = (s) => {
  const b = new TextEncoder().encode(s);
  return [...leb(b.length), ...b];
};

export const IMPORTS = 2;
export const EXPORTS = 7;

/**
 * The sections of a module, in order: `{ id, bytes }`, plus for the import and export sections their
 * `entries`: `{ module (imports only), name, desc }`, `desc` being the entry's bytes after its names.
 */
export function sections(bytes) {
  const out = [];
  const r = reader(bytes, 8);
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = bytes[r.pos++];
    const end = r.u32() + r.pos;
    const section = { id, bytes: bytes.subarray(start, end) };
    if (id === IMPORTS || id === EXPORTS) {
      section.entries = [];
      for (let n = r.u32(); n > 0; n--) {
        const entry = id === IMPORTS ? { module: r.name(), name: r.name() } : { name: r.name() };
        const descStart = r.pos;
        if (id === IMPORTS) {
          r.importDesc();
        } else {
          r.pos++;
          r.u32();
        }
        entry.desc = bytes.subarray(descStart, r.pos);
        section.entries.push(entry);
      }
      if (r.pos !== end) throw new Error(`section ${id}: read ${r.pos - start} of ${end - start} bytes`);
    }
    out.push(section);
    r.pos = end;
  }
  return out;
}

/** The import (module, name) pairs and export names of a module, in order. */
export function wasmNames(bytes) {
  const all = sections(bytes);
  const entries = (id) => all.filter((s) => s.id === id).flatMap((s) => s.entries);
  return {
    imports: entries(IMPORTS).map(({ module, name }) => ({ module, name })),
    exports: entries(EXPORTS).map((e) => e.name),
  };
}

/**
 * The module with its import and export names passed through `rename*` (other sections copied as they are);
 * an export whose new name is `null` is left out.
 */
export function renameWasm(bytes, { importModule = (m) => m, importName = (n) => n, exportName = (n) => n }) {
  const out = [bytes.subarray(0, 8)];
  for (const { id, bytes: raw, entries: all } of sections(bytes)) {
    if (!all) {
      out.push(raw);
      continue;
    }
    const entries = id === IMPORTS ? all : all.filter((e) => exportName(e.name) !== null);
    const body = [...leb(entries.length)];
    for (const e of entries) {
      if (id === IMPORTS) body.push(...encodeName(importModule(e.module)), ...encodeName(importName(e.name)));
      else body.push(...encodeName(exportName(e.name)));
      body.push(...e.desc);
    }
    out.push(Uint8Array.from([id, ...leb(body.length), ...body]));
  }
  return Buffer.concat(out);
}

export const CODE = 10;

/** A binaryen tool (`wasm-opt`, `wasm-dis`): npm's (Debian's wasm-opt 108 writes broken modules), as the build puts it first on PATH. */
export function binaryen(tool) {
  const local = fileURLToPath(new URL(`../node_modules/.bin/${tool}`, import.meta.url));
  return existsSync(local) ? local : tool;
}
const WASM_OPT = binaryen('wasm-opt');

/** How many imports of `kind` (0 function, 3 global) the module's `sections` hold: the defined ones are numbered after them. */
export const importCount = (all, kind) => all.filter((s) => s.id === IMPORTS).flatMap((s) => s.entries).filter((e) => e.desc[0] === kind).length;

/** The body bytes of each function the module defines, and how many functions it imports. */
export function functionBodies(bytes) {
  const all = sections(bytes);
  const imported = importCount(all, 0);
  const bodies = [];
  for (const { bytes: raw } of all.filter((s) => s.id === CODE)) {
    const r = reader(raw, 1);
    r.u32();
    for (let n = r.u32(); n > 0; n--) {
      const len = r.u32();
      bodies.push(raw.subarray(r.pos, r.pos + len));
      r.pos += len;
    }
  }
  return { imported, bodies };
}

/**
 * An order of the bodies in which each is followed by the one most like it (the share of its 3-byte
 * sequences the previous body also has), so that gzip's 32 KB window finds more repeats. Greedy, from
 * the largest body; ties go to the lower index, so the order is the same on every machine.
 */
export function similarOrder(bodies) {
  const grams = bodies.map((b) => {
    const set = new Set();
    for (let i = 0; i + 3 <= b.length; i++) set.add((b[i] << 16) | (b[i + 1] << 8) | b[i + 2]);
    return set;
  });
  const left = new Set(bodies.keys());
  let cur = 0;
  for (const i of left) if (bodies[i].length > bodies[cur].length) cur = i;
  const order = [cur];
  left.delete(cur);
  while (left.size) {
    let best = -1;
    let score = -1;
    for (const i of left) {
      let shared = 0;
      for (const g of grams[i]) if (grams[cur].has(g)) shared++;
      const s = shared / (1 + grams[i].size);
      if (s > score) [best, score] = [i, s];
    }
    order.push(best);
    left.delete(best);
    cur = best;
  }
  return order;
}

/**
 * The module with its function bodies reordered by [`similarOrder`]: -0.75 KB gzip on the shipped build.
 * The order is handed to binaryen as function names (its `--reorder-functions-by-name` renumbers every
 * call, table entry and export), and the names are stripped again.
 */
export function orderForGzip(bytes) {
  const { imported, bodies } = functionBodies(bytes);
  if (bodies.length < 2) return bytes;
  const width = String(bodies.length).length;
  const names = [...leb(bodies.length)];
  similarOrder(bodies).forEach((body, rank) => names.push(...leb(imported + body), ...encodeName(`f${String(rank).padStart(width, '0')}`)));
  const payload = [...encodeName('name'), 1, ...leb(names.length), ...names];
  const dir = mkdtempSync(join(tmpdir(), 'shrink-'));
  try {
    writeFileSync(join(dir, 'in.wasm'), Buffer.concat([bytes, Uint8Array.from([0, ...leb(payload.length), ...payload])]));
    const features = ['bulk-memory', 'nontrapping-float-to-int', 'reference-types', 'multivalue', 'sign-ext', 'mutable-globals'];
    // The levels and Stack IR flags keep the writer as compact as the -Oz run that made the module.
    execFileSync(WASM_OPT, [
      '--reorder-functions-by-name', '--strip-debug', ...features.map((f) => `--enable-${f}`),
      '--optimize-level', '2', '--shrink-level', '2', '--generate-stack-ir', '--optimize-stack-ir',
      join(dir, 'in.wasm'), '-o', join(dir, 'out.wasm'),
    ]);
    return readFileSync(join(dir, 'out.wasm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const escape = (s) => s.replace(/[$]/g, '\\$');
/** `s` matched literally in a RegExp. */
const literal = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const token = (name) => new RegExp(`(?<![\\w$])${escape(name)}(?![\\w$])`, 'g');

/**
 * The web glue with a clear error for a call made before `init()`: `wasm` starts as a stand-in whose
 * every property throws, instead of `undefined` (whose `wasm.$9` is a `TypeError` naming a minified export).
 * The glue's own "already initialised" checks compare with the stand-in instead.
 */
export function guardBeforeInit(js) {
  const decl = 'let wasmModule, wasmInstance, wasm;';
  const ready = /\bwasm !== undefined\b/g;
  if (js.split(decl).length !== 2 || (js.match(ready) || []).length !== 2) {
    throw new Error('web glue: wasm-bindgen no longer declares `wasm` and checks it as this script expects');
  }
  const notReady = `const NOT_READY = new Proxy({}, { get() {
  const e = new Error('gemini-roadmap: await init() (the default export) before calling it');
  throw Object.assign(e, { name: 'GeminiRoadmapError', code: 'NOT_INITIALIZED', retryable: false });
} });
let wasmModule, wasmInstance, wasm = NOT_READY;`;
  // `initSync()` while an `init()` is loading: the first instance stays. Replaced when the load ended, it left
  // what was made with it (a `GeminiChat`) pointing into a memory no longer used ("memory access out of bounds").
  const loaded = 'const { instance, module } = await __wbg_load(await module_or_path, imports);';
  if (js.split(loaded).length !== 2) {
    throw new Error('web glue: wasm-bindgen no longer loads the module in init() as this script expects');
  }
  return js.replace(decl, () => notReady).replace(ready, 'wasm !== NOT_READY')
    .replace(loaded, () => `${loaded}\n    if (wasm !== NOT_READY) return wasm;`);
}

/**
 * The web glue's `init()` in Node: the default `.wasm` location, `new URL('gemini_roadmap_bg.wasm', import.meta.url)`,
 * is a `file:` URL there (scripts, tests, SSR), which Node's `fetch` cannot read: it rejects with "fetch failed",
 * caused by "not implemented... yet...". A `file:` URL (or string) is read with `node:fs` instead, found at run time
 * through `process.getBuiltinModule` (Node 20.16+, 22.3+, Bun, Deno) so that no bundler tries to resolve it. Anything
 * else, and any `file:` URL where that function is missing (older Node), is fetched as before.
 */
export function readFileUrls(js) {
  const call = 'module_or_path = fetch(module_or_path);';
  if (js.split(call).length !== 2) {
    throw new Error('web glue: wasm-bindgen no longer fetches module_or_path as this script expects');
  }
  const fetchWasm = `
function fetchWasmOrFile(input) {
  const href = typeof input === 'string' ? input : typeof URL === 'function' && input instanceof URL ? input.href : '';
  const fs = /^file:/i.test(href) && globalThis.process?.getBuiltinModule?.('node:fs');
  return fs ? fs.promises.readFile(new URL(href)) : fetch(input);
}
`;
  return js.replace(call, () => 'module_or_path = fetchWasmOrFile(module_or_path);') + fetchWasm;
}

/**
 * The glue with a freed `GeminiChat` handled as users expect: `free()` (and `[Symbol.dispose]()`, a `using`
 * block's end) may be called again, and a call on a freed chat throws a `GeminiRoadmapError` (`FREED`) instead
 * of wasm-bindgen's bare "null pointer passed to rust", the only text its `__wbindgen_throw` gets from this crate
 * besides its own borrow check's. `free()` from inside one of the chat's own synchronous calls (a getter it reads
 * calls it) threw wasm-bindgen's plain "attempted to take ownership of Rust value while it was borrowed", having
 * already let go of the value: it now passes `allow_delayed` as the finalizer does, so the value goes once that
 * call returns and `free()` throws nothing.
 */
export function guardFreed(js) {
  const free = /(free\(\) \{\s*const ptr = this\.__destroy_into_raw\(\);\s*)(wasm\.[\w$]+)\(ptr, 0\);/g;
  const thrown = 'throw new Error(getStringFromWasm0(arg0, arg1));';
  if ((js.match(free) || []).length !== 1 || js.split(thrown).length !== 2) {
    throw new Error('glue: wasm-bindgen no longer writes free() and __wbindgen_throw as this script expects');
  }
  const freed = `const m = getStringFromWasm0(arg0, arg1);
  throw m !== 'null pointer passed to rust' ? new Error(m) : Object.assign(
    new Error('gemini-roadmap: this GeminiChat was freed (free(), or the end of its using block); create a new one'),
    { name: 'GeminiRoadmapError', code: 'FREED', retryable: false });`;
  return js.replace(free, '$1if (ptr) $2(ptr, 1);').replace(thrown, () => freed);
}

/**
 * Moves the crate's `inline_js` snippets (`snippets/<crate>-<hash>/inline<N>.js`) into the glue, so the package
 * ships no extra files and the .wasm imports everything from the one glue module: their functions join the web
 * glue's imports object (`import0`) or become exports of the bundler's `_bg.js`, and the .wasm's imports from a
 * snippet are retargeted by `shrink` (`snippetModules`). A snippet holds top-level statements and
 * `export function name(`s only; a name the glue already uses stops the build.
 */
export function inlineSnippets(dir, glue, web) {
  const root = `${dir}/snippets`;
  const snippetModules = new Set();
  if (!existsSync(root)) return snippetModules;
  const files = readdirSync(root).flatMap((d) => readdirSync(`${root}/${d}`).map((f) => `${d}/${f}`));
  const allGlue = [...glue.values()].join('\n');
  for (const file of files) {
    const code = readFileSync(`${root}/${file}`, 'utf8');
    const names = [...code.matchAll(/^export function ([\w$]+)\(/gm)].map((m) => m[1]);
    if (!names.length || /^export (?!function )/m.test(code) || /\bimport\b/.test(code)) throw new Error(`${root}/${file}: not a snippet of plain exported functions`);
    for (const n of names) if (token(n).test(allGlue)) throw new Error(`${root}/${file}: ${n} is already used in the glue`);
    const path = `./snippets/${file}`;
    snippetModules.add(path);
    for (const [f, js] of glue) {
      if (web) {
        const imported = [...js.matchAll(new RegExp(`^import \\* as (import\\d+) from "${literal(path)}";?\\n`, 'gm'))];
        if (!imported.length) throw new Error(`${f}: no import of ${path}`);
        let out = js;
        for (const [line, id] of imported) {
          out = out.replace(line, '').replace(new RegExp(`\\n\\s*"${literal(path)}": ${id},?`), '');
        }
        if (!out.includes('const import0 = {\n        __proto__: null,\n')) throw new Error(`${f}: no imports object import0`);
        out = out.replace('const import0 = {\n        __proto__: null,\n', () => `const import0 = {\n        __proto__: null,\n        ${names.join(', ')},\n`);
        glue.set(f, `${out}\n${code.replace(/^export function /gm, 'function ')}`);
      } else if (f.endsWith('_bg.js')) {
        glue.set(f, `${js}\n${code}`);
      }
    }
  }
  rmSync(root, { recursive: true });
  return snippetModules;
}

/** The glue files of the build in `dir` (web: one; bundler: the entry and `_bg.js`), path → text. */
export function readGlue(dir) {
  const files = [`${NAME}.js`, `${NAME}_bg.js`].map((f) => `${dir}/${f}`).filter(existsSync);
  return new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
}

/** The .wasm exports the glue text reads, as `wasm.<name>`. */
export const wasmReads = (js) => new Set([...js.matchAll(/\bwasm\.([\w$]+)/g)].map((m) => m[1]));

/** Shrinks the build in `dir` (web: one glue file; bundler: the entry and `_bg.js`). */
export async function shrink(dir) {
  const { transform } = await import('esbuild');
  const wasmPath = `${dir}/${NAME}_bg.wasm`;
  const glue = readGlue(dir);
  // `--target web` passes the imports as an object, so the module name is just a key there; the bundler
  // target imports it as a file, so its name stays.
  const web = glue.size === 1;
  const snippetModules = inlineSnippets(dir, glue, web);
  const allGlue = [...glue.values()].join('\n');
  if (/(?<![\w$])\$\d/.test(allGlue)) throw new Error(`${dir}: already shrunk (or uses $-names)`);
  const bytes = orderForGzip(readFileSync(wasmPath));
  const { imports, exports } = wasmNames(bytes);
  // Imports: every function the glue provides. Exports: those the glue calls as `wasm.<name>`, except
  // `memory`, which apps read from what `init()` returns.
  const importMap = new Map(imports.map((im, i) => [im.name, `$${i.toString(36)}`]));
  const used = wasmReads(allGlue);
  for (const name of used) if (!exports.includes(name)) throw new Error(`${dir}: glue calls wasm.${name}, not exported`);
  const renamed = exports.filter((e) => used.has(e) && e !== 'memory');
  const exportMap = new Map(renamed.map((e, i) => [e, `$_${i.toString(36)}`]));
  for (const name of importMap.keys()) if (exportMap.has(name)) throw new Error(`${dir}: ${name} is both imported and exported`);
  const module = web ? 'a' : GLUE_MODULE;
  for (const im of imports) if (im.module !== GLUE_MODULE && !snippetModules.has(im.module)) throw new Error(`${dir}: unexpected import module ${im.module}`);
  if (importMap.size !== imports.length) throw new Error(`${dir}: two imports share a name`);
  writeFileSync(wasmPath, renameWasm(bytes, {
    importModule: () => module,
    importName: (n) => importMap.get(n),
    exportName: (n) => exportMap.get(n) ?? n,
  }));
  for (const [file, text] of glue) {
    let js = text;
    // Replacer functions: `$1` in a replacement string would mean a capture group.
    for (const [from, to] of importMap) {
      // A snippet's function named like a property the glue reads (`isArray` in `Array.isArray`) would be renamed there too.
      if (new RegExp(`\\.${escape(from)}(?![\\w$])`).test(js)) throw new Error(`${file}: import ${from} is also read as a property`);
      js = js.replace(token(from), () => to);
    }
    for (const [from, to] of exportMap) js = js.replace(new RegExp(`\\bwasm\\.${escape(from)}(?![\\w$])`, 'g'), () => `wasm.${to}`);
    if (web) {
      if (!js.includes(`"${GLUE_MODULE}": import0`)) throw new Error(`${file}: no imports object keyed "${GLUE_MODULE}"`);
      js = readFileUrls(guardBeforeInit(js.replace(`"${GLUE_MODULE}": import0`, `"${module}": import0`)));
    }
    if (js.includes('__destroy_into_raw')) js = guardFreed(js);
    const header = js.match(/^\/\* @ts-self-types="[^"]*" \*\/\n/)?.[0] ?? '';
    const min = await transform(js, { minify: true, format: 'esm', target: 'es2020', legalComments: 'none' });
    writeFileSync(file, header + min.code);
  }
  // The raw exports are typed in `_bg.wasm.d.ts` (bundler) and in the `InitOutput` that `init()` returns (web).
  for (const [dts, decl] of [[`${wasmPath}.d.ts`, 'const'], [`${dir}/${NAME}.d.ts`, 'readonly']]) {
    if (!existsSync(dts)) continue;
    let text = readFileSync(dts, 'utf8');
    for (const [from, to] of exportMap) text = text.replace(new RegExp(`\\b${decl} ${escape(from)}:`), () => `${decl} ${to}:`);
    writeFileSync(dts, text);
  }
  return { imports: importMap.size, exports: exportMap.size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of process.argv.slice(2)) {
    const n = await shrink(dir);
    console.error(`[shrink] ${dir}: ${n.imports} import and ${n.exports} export names shortened, glue minified`);
  }
}
