// Where README.md's examples run: a static site that serves the built package (dist/, as published) under
// any `/node_modules/gemini-roadmap/` path plus pages made per example, headless Chromium with every request to
// Google's API forwarded to the mock Gemini, and Node with the package installed from dist/.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { DIST, ROOT } from '../helpers.mjs';

export const GOOGLE = 'https://generativelanguage.googleapis.com';
/** Scratch space: node_modules/gemini-roadmap (a copy of dist/), the Node scripts and the tsc project. */
export const WORK = join(ROOT, 'test-output', 'readme');
/** Where the `?url` import of the Vite example points: a hashed asset URL, as Vite would make one. */
export const VITE_ASSET = '/assets/gemini_roadmap_bg-4f1c2a9e.wasm';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.ts': 'text/plain', '.md': 'text/markdown',
};

/**
 * The site: `site.put(path, text)` adds a page or module; `/…/node_modules/gemini-roadmap/<file>` is
 * dist/<file>; VITE_ASSET is dist/web/gemini_roadmap_bg.wasm.
 */
export function startSite() {
  const files = new Map();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const send = (status, type, body) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (files.has(path)) return send(200, TYPES[extname(path)] ?? 'text/plain', files.get(path));
    let file;
    const pkg = path.indexOf('/node_modules/gemini-roadmap/');
    if (pkg >= 0) file = normalize(join(DIST, path.slice(pkg + '/node_modules/gemini-roadmap/'.length)));
    else if (path === VITE_ASSET) file = join(DIST, 'web', 'gemini_roadmap_bg.wasm');
    if (!file || !file.startsWith(DIST)) return send(404, 'text/plain', 'not found');
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      send(200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
    } catch {
      send(404, 'text/plain', 'not found');
    }
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${server.address().port}`,
        put: (path, text) => files.set(path, text),
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/**
 * The import map a user's page would have with the package under /node_modules/gemini-roadmap/: one entry
 * per subpath of dist/package.json "exports" (so "gemini-roadmap", "gemini-roadmap/web" and
 * "gemini-roadmap/bundler" go where the manifest says), plus `extra`.
 */
export function importMap(extra = {}) {
  const { exports } = JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8'));
  const imports = {};
  for (const [sub, target] of Object.entries(exports)) {
    const file = typeof target === 'string' ? target : target.default;
    if (sub === './package.json' || !file) continue;
    imports[`gemini-roadmap${sub.slice(1)}`] = `/node_modules/gemini-roadmap/${file.replace(/^\.\//, '')}`;
  }
  return { imports: { ...imports, ...extra } };
}

/**
 * Opens `${site.url}${path}` in a fresh context whose requests to Google's API are forwarded to the mock
 * (method, headers and body kept; Playwright's route.fulfill takes a whole body, so an SSE answer
 * reaches the page in one piece rather than chunk by chunk). Waits until `ready` (a page function)
 * returns a truthy value. Returns what `collect` (a page function) returns, by default window.__readme,
 * every request that went to Google, the .wasm responses, and page errors and console errors.
 */
export async function runPage(browser, site, path, { mockUrl, ready, collect = () => window.__readme ?? null, timeoutMs = 90_000 }) {
  const context = await browser.newContext();
  const google = [];
  const wasm = [];
  const errors = [];
  const strays = [];
  await context.route(`${GOOGLE}/**`, async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    google.push({ method: req.method(), url: req.url(), headers: await req.allHeaders() });
    try {
      const response = await route.fetch({ url: `${mockUrl}${url.pathname}${url.search}`, maxRedirects: 0 });
      await route.fulfill({ response });
    } catch (e) {
      errors.push(`forwarding ${req.method()} ${url.pathname}: ${e.message}`);
      await route.abort('failed').catch(() => {});
    }
  });
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(site.url) && !u.startsWith(GOOGLE) && !/^(data|blob):/.test(u)) strays.push(u);
  });
  context.on('response', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push({ path: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] });
    else if (r.status() >= 400) errors.push(`http ${r.status()} ${r.url()}`);
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack ?? e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker console: ${m.text()}`)));
  try {
    await page.goto(`${site.url}${path}`);
    await page.waitForFunction(ready, null, { timeout: timeoutMs, polling: 50 }).catch(async (e) => {
      const state = await page.evaluate(() => JSON.stringify(window.__readme ?? null)).catch(() => 'unavailable');
      throw new Error(`${e.message}\npage state: ${state?.slice(0, 2000)}\nerrors: ${errors.join('\n')}`);
    });
    const state = await page.evaluate(collect);
    return { state, google, wasm, errors, strays, origin: site.url };
  } finally {
    await context.close();
  }
}

/**
 * A page that runs `module` (an ES module served next to it) after setting window.__readme = { ...config,
 * logs: [], rendered: [], messages: [] }; status becomes 'done' or 'error' (with the stack) when the
 * module, top-level awaits included, has finished.
 */
export function runnerPage(config, map = importMap()) {
  return `<!doctype html>
<meta charset="utf-8">
<title>README example</title>
<script type="importmap">${JSON.stringify(map)}</script>
<script type="module">
  window.__readme = { ...${JSON.stringify(config)}, logs: [], rendered: [], messages: [], status: 'running' };
  import('./block.mjs').then(
    () => { window.__readme.status = 'done'; },
    (e) => { window.__readme.status = 'error'; window.__readme.error = String(e?.stack ?? e); },
  );
</script>
`;
}

/** test-output/readme/node_modules/gemini-roadmap: dist/ copied as `npm install` would lay it out. */
export function installPackage() {
  const dest = join(WORK, 'node_modules', 'gemini-roadmap');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(DIST, dest, { recursive: true });
  return dest;
}

/**
 * Runs `code` as test-output/readme/<name>.mjs with Node (it imports the package from the copy that
 * installPackage made). Lines the script prints as `README_RESULT <json>` come back parsed as `results`.
 * Asynchronous: the mock Gemini answers from this process while the script runs.
 */
export function runNode(name, code, { args = [], env = {}, timeoutMs = 120_000 } = {}) {
  const file = join(WORK, `${name}.mjs`);
  writeFileSync(file, code);
  return new Promise((ok) => {
    const child = execFile(process.execPath, [...args, file], {
      cwd: WORK, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, ...env },
    }, (error, stdout, stderr) => {
      const results = stdout.split('\n').filter((l) => l.startsWith('README_RESULT ')).map((l) => JSON.parse(l.slice(14)));
      ok({ code: child.exitCode ?? (error ? 1 : 0), stdout, stderr: `${stderr}${error?.killed ? `\n(killed after ${timeoutMs} ms)` : ''}`, results, file });
    });
  });
}
