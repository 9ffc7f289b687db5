// Prints the shipped size: the .wasm alone and .wasm + JS glue, raw and gzip -9 (what a CDN serves).
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'pkg/web';
const wasmPath = `${dir}/gemini_roadmap_bg.wasm`;
const gluePath = `${dir}/gemini_roadmap.js`;
if (!existsSync(wasmPath)) {
  console.error(`no build at ${dir}: run npm run build`);
  process.exit(1);
}
const gz = (b) => gzipSync(b, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const wasm = readFileSync(wasmPath);
const both = Buffer.concat([wasm, readFileSync(gluePath)]);
const rows = [
  ['.wasm', wasm.length, gz(wasm)],
  ['.wasm + JS glue', both.length, gz(wasm) + gz(readFileSync(gluePath))],
];
console.log(`| ${dir} | raw | gzip -9 |\n|---|---|---|`);
for (const [name, raw, z] of rows) console.log(`| ${name} | ${kb(raw)} (${raw} B) | ${kb(z)} (${z} B) |`);
if (process.env.SIZE_JSON) {
  console.log(JSON.stringify({ wasmRaw: wasm.length, wasmGzip: gz(wasm), totalRaw: both.length, totalGzip: rows[1][2] }));
}
