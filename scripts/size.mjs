// Prints the shipped size: the .wasm alone and .wasm + JS glue, raw and gzip -9 (what a CDN serves).
// `measureSize` is also used by the benchmark, so that bytes are reported next to tokens and time.
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** Bytes after gzip -9: what a CDN serves. The bench measures other bundles with it too. */
export const gzipSize = (b) => gzipSync(b, { level: 9 }).length;

/** Sizes in bytes of `dir`'s build, or null when there is none. */
export function measureSize(dir) {
  const wasmPath = `${dir}/gemini_roadmap_bg.wasm`;
  const gluePath = `${dir}/gemini_roadmap.js`;
  if (!existsSync(wasmPath)) return null;
  const wasm = readFileSync(wasmPath);
  const glue = readFileSync(gluePath);
  const wasmGzip = gzipSize(wasm);
  return {
    wasmRaw: wasm.length,
    wasmGzip,
    totalRaw: wasm.length + glue.length,
    totalGzip: wasmGzip + gzipSize(glue),
  };
}

export const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'pkg/web';
  const s = measureSize(dir);
  if (!s) {
    console.error(`no build at ${dir}: run npm run build`);
    process.exit(1);
  }
  console.log(`| ${dir} | raw | gzip -9 |\n|---|---|---|`);
  console.log(`| .wasm | ${kb(s.wasmRaw)} (${s.wasmRaw} B) | ${kb(s.wasmGzip)} (${s.wasmGzip} B) |`);
  console.log(`| .wasm + JS glue | ${kb(s.totalRaw)} (${s.totalRaw} B) | ${kb(s.totalGzip)} (${s.totalGzip} B) |`);
  if (process.env.SIZE_JSON) console.log(JSON.stringify(s));
}
