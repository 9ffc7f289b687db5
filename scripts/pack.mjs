// Lays out the publishable npm package in dist/ from the two wasm-pack builds (pkg/web, pkg/bundler).
// The top-level package.json is the private dev workspace; dist/package.json is the one that ships.
// Only the JS glue, the .wasm, the .d.ts, README.md, LICENSE, CHANGELOG.md and package.json go in:
// wasm-pack's own package.json, README copy and .gitignore in pkg/* are left behind.
// Usage: node scripts/pack.mjs [--out dist]      (run by scripts/build.sh after wasm-pack)
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const outArg = process.argv.indexOf('--out');
const out = resolve(root, outArg >= 0 ? process.argv[outArg + 1] : 'dist');
const NAME = 'gemini_roadmap';

// Every file each target needs at run time or for types. `_bg.wasm.d.ts` (raw wasm exports) is internal.
const TARGETS = {
  web: [`${NAME}.js`, `${NAME}.d.ts`, `${NAME}_bg.wasm`],
  bundler: [`${NAME}.js`, `${NAME}_bg.js`, `${NAME}.d.ts`, `${NAME}_bg.wasm`],
};
const DOCS = ['README.md', 'LICENSE', 'CHANGELOG.md'];

function fail(msg) {
  console.error(`[pack] ${msg}`);
  process.exit(1);
}

// [package] version/repository from Cargo.toml: one version for the crate and the npm package.
function cargoField(field) {
  const toml = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  const pkg = toml.split(/^\[/m).find((s) => s.startsWith('package]')) ?? '';
  return pkg.match(new RegExp(`^${field}\\s*=\\s*"([^"]*)"`, 'm'))?.[1];
}

const version = cargoField('version') ?? fail('no [package] version in Cargo.toml');
const repository = cargoField('repository');
const workspace = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const [target, files] of Object.entries(TARGETS)) {
  for (const f of files) {
    if (!existsSync(join(root, 'pkg', target, f))) fail(`missing pkg/${target}/${f}: run scripts/build.sh`);
  }
}
for (const f of DOCS) if (!existsSync(join(root, f))) fail(`missing ${f}`);

rmSync(out, { recursive: true, force: true });
const shipped = [];
const sideEffects = [
  // The bundler entry wires the imported wasm module into the glue and runs its start function:
  // dropping or reordering it (webpack re-export optimisation) would leave the glue without wasm.
  './bundler/gemini_roadmap.js',
];
for (const [target, files] of Object.entries(TARGETS)) {
  mkdirSync(join(out, target), { recursive: true });
  for (const f of files) {
    cpSync(join(root, 'pkg', target, f), join(out, target, f));
    shipped.push(`${target}/${f}`);
  }
  // Inline JS of `#[wasm_bindgen(module = ...)]` (none today): shipped, and kept as side-effectful.
  const snippets = join(root, 'pkg', target, 'snippets');
  if (existsSync(snippets) && readdirSync(snippets).length > 0) {
    cpSync(snippets, join(out, target, 'snippets'), { recursive: true });
    shipped.push(`${target}/snippets/`);
    sideEffects.push(`./${target}/snippets/*`);
  }
}
for (const f of DOCS) cpSync(join(root, f), join(out, f));

// wasm-bindgen declares `[Symbol.dispose]()` on exported classes. `Symbol.dispose` is only in TypeScript's
// `esnext.disposable` lib, so an app with `lib: ["es2022", "dom"]` and `skipLibCheck: false` would get
// TS2550 inside our .d.ts. The reference pulls that lib in for any TypeScript >= 5.2 (as @types/node does).
const DISPOSABLE = '/// <reference lib="esnext.disposable" />\n';
for (const target of Object.keys(TARGETS)) {
  const dts = join(out, target, `${NAME}.d.ts`);
  const text = readFileSync(dts, 'utf8');
  if (text.includes('Symbol.dispose') && !text.includes('<reference lib="esnext.disposable"')) {
    writeFileSync(dts, DISPOSABLE + text);
  }
}

const web = { types: `./web/${NAME}.d.ts`, default: `./web/${NAME}.js` };
const manifest = {
  name: 'gemini-roadmap',
  version,
  description: workspace.description,
  license: 'MIT',
  ...(repository && {
    repository: { type: 'git', url: `git+${repository}.git` },
    homepage: `${repository}#readme`,
    bugs: { url: `${repository}/issues` },
  }),
  keywords: [
    'gemini', 'google-gemini', 'llm', 'ai', 'roadmap', 'learning-path', 'curriculum',
    'json-repair', 'webassembly', 'wasm', 'rust', 'browser',
  ],
  type: 'module',
  // "." is the `web` target for every consumer: its glue finds the wasm through
  // `new URL('gemini_roadmap_bg.wasm', import.meta.url)`, which Vite and webpack 5 turn into an emitted
  // asset with no plugin and no config, and which a browser resolves by itself without a bundler.
  // `./bundler` is the wasm-as-ES-module build, for apps already set up for it.
  exports: {
    '.': web,
    './web': web,
    './bundler': { types: `./bundler/${NAME}.d.ts`, default: `./bundler/${NAME}.js` },
    // The raw binary, for `init({ module_or_path })` with a URL of your own (CDN, Vite `?url`, cache).
    './web/gemini_roadmap_bg.wasm': `./web/${NAME}_bg.wasm`,
    './package.json': './package.json',
  },
  // For tools that predate "exports" (TypeScript with moduleResolution "node10", old bundlers).
  main: `./web/${NAME}.js`,
  module: `./web/${NAME}.js`,
  types: `./web/${NAME}.d.ts`,
  sideEffects,
  // Node needs a global `fetch` (README, "Browser support").
  engines: { node: '>=18' },
  files: [...shipped, ...DOCS],
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.error(`[pack] ${out}: gemini-roadmap@${version}, ${shipped.length + DOCS.length + 1} files`);
