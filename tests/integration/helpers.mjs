// Shared plumbing of the integration tests: build and pack the published package, install it into
// throwaway copies of the template apps under test-output/apps/, serve them, and drive headless
// Chromium against the mock Gemini. Nothing here reaches the network except `npm ci` of the apps'
// pinned tooling (served from npm's own cache when it is there: --prefer-offline).
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import assert from 'node:assert/strict';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const DIST = join(ROOT, 'dist');
export const APPS = join(ROOT, 'tests', 'integration', 'apps');
export const OUT = join(ROOT, 'test-output', 'apps');
export const VERSION = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8').match(/^version\s*=\s*"([^"]+)"/m)[1];

/** The built web package (`pkg/web`), initialised from its `.wasm` for Node: its exports, `generateRoadmap` first. */
export async function loadWebPackage() {
  const pkg = await import(join(ROOT, 'pkg', 'web', 'gemini_roadmap.js'));
  await pkg.default({ module_or_path: readFileSync(join(ROOT, 'pkg', 'web', 'gemini_roadmap_bg.wasm')) });
  return pkg;
}

const log = (...a) => process.env.INTEGRATION_VERBOSE && console.error('[integration]', ...a);

// The environment of child npm processes: without the variables of the `npm test` that runs us, so a
// nested `npm ci` works on the app folder and not on this repository.
function childEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
  for (const k of Object.keys(env)) {
    if (k.startsWith('npm_package_') || k.startsWith('npm_lifecycle_') || k === 'npm_config_local_prefix' || k === 'INIT_CWD') {
      delete env[k];
    }
  }
  return env;
}

/** Runs a command to completion; throws with its output when it fails (unless allowFail). */
export function run(cmd, args, { cwd = ROOT, env, allowFail = false, timeoutMs = 240_000 } = {}) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: childEnv(env), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  log(`${cmd} ${args.join(' ')} (${cwd}) -> ${r.status} in ${Date.now() - t0} ms`);
  const res = { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  if (!allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''}):\n${res.output.slice(-6000)}`);
  }
  return res;
}

function newest(paths) {
  let t = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else t = Math.max(t, s.mtimeMs);
  };
  paths.forEach(visit);
  return t;
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

// mkdir is atomic: a crude lock so that two test processes never build or pack at the same time.
async function withLock(name, fn) {
  const dir = join(ROOT, 'test-output', `.${name}.lock`);
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(dir);
      break;
    } catch {
      if (i > 6000) throw new Error(`lock ${dir} held for 10 minutes; remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes sure dist/ holds the package built from the current sources: runs scripts/build.sh when the
 * Rust sources are newer than the wasm-pack output, and only scripts/pack.mjs when just the package
 * layout or its documents changed.
 */
export async function ensureDist() {
  await withLock('build', async () => {
    const sources = newest(['src', 'Cargo.toml', 'Cargo.lock'].map((p) => join(ROOT, p)));
    const built = Math.min(...['web', 'bundler'].map((t) => mtime(join(ROOT, 'pkg', t, 'gemini_roadmap_bg.wasm'))));
    if (built < sources) {
      log('sources changed since the last wasm-pack build: scripts/build.sh');
      run('bash', ['scripts/build.sh'], { timeoutMs: 900_000 });
      return;
    }
    const inputs = newest([
      ...['web', 'bundler'].map((t) => join(ROOT, 'pkg', t)),
      ...['scripts/pack.mjs', 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'Cargo.toml'].map((p) => join(ROOT, p)),
    ]);
    if (mtime(join(DIST, 'package.json')) < inputs) {
      log('dist/ is older than pkg/ or the package files: scripts/pack.mjs');
      run('flock', ['scripts/build.sh', 'node', 'scripts/pack.mjs']); // build.sh's own lock
    }
  });
}

/** `npm pack` of dist/ into a folder of its own; returns the tarball's absolute path. */
export async function packTarball(tag) {
  await ensureDist();
  const dest = join(OUT, '_tarballs', tag);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  run('npm', ['pack', DIST, '--pack-destination', dest, '--silent']);
  const tgz = join(dest, `gemini-roadmap-${VERSION}.tgz`);
  assert.ok(existsSync(tgz), `npm pack did not write ${tgz}`);
  return tgz;
}

/**
 * Copies tests/integration/apps/<name> (plus apps/shared as <app>/shared) to test-output/apps/<as>,
 * installs its pinned tooling with `npm ci` (npm's cache first) and then the packed tarball, offline.
 */
export async function prepareApp(name, { tarball, as = name }) {
  const dir = join(OUT, as);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  cpSync(join(APPS, name), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  cpSync(join(APPS, 'shared'), join(dir, 'shared'), { recursive: true });
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  if (existsSync(join(dir, 'package-lock.json'))) run('npm', ['ci', '--prefer-offline', ...quiet], { cwd: dir });
  // The package has no dependencies of its own, so it installs from the tarball with no registry at all.
  run('npm', ['install', '--no-save', '--offline', ...quiet, tarball], { cwd: dir });
  const installed = JSON.parse(readFileSync(join(dir, 'node_modules', 'gemini-roadmap', 'package.json'), 'utf8'));
  assert.equal(installed.version, VERSION);
  return dir;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
};

/** A static file server for a built app, on 127.0.0.1 and a free port. */
export function serveStatic(root) {
  root = resolve(root);
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }),
    ),
  );
}

/**
 * Starts a long-running command (a dev server) and resolves once a line of its output matches `ready`;
 * resolves to { match, stop }. stop() ends that process group only.
 */
export function startProcess(cmd, args, { cwd, ready, timeoutMs = 60_000 }) {
  const child = spawn(cmd, args, { cwd, env: childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = () =>
    new Promise((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        r();
      }
    });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      stop();
      fail(new Error(`${cmd} ${args.join(' ')} not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (d) => {
      output += d;
      const m = output.match(ready);
      if (m) {
        clearTimeout(timer);
        ok({ match: m, stop, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${cmd} exited (${code}) before it was ready:\n${output}`));
    });
  });
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Opens `url` with the mock and key in its query string, waits for the app to finish, and returns
 * what a person would see (weeks and days in the DOM) plus the app's own report and any console errors.
 */
export async function openRoadmapPage(browser, url, { mockUrl, key, weeks = 3, extra = {}, timeoutMs = 120_000 }) {
  const page = await browser.newPage();
  const errors = [];
  const wasm = [];
  // "Failed to load resource" console lines carry no URL: the response listener reports those instead.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()} ${r.url()}`);
    if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
  });
  const q = new URLSearchParams({ mock: mockUrl, key, weeks: String(weeks), ...extra });
  const target = `${url}${url.includes('?') ? '&' : '?'}${q}`;
  try {
    await page.goto(target);
    await page.waitForSelector('body[data-status="done"], body[data-status="error"]', { timeout: timeoutMs });
    const result = await page.evaluate(() => window.__result);
    const dom = await page.evaluate(() =>
      [...document.querySelectorAll('section.week')].map((s) => ({
        week: Number(s.dataset.week),
        days: [...s.querySelectorAll('li.day')].map((d) => Number(d.dataset.day)),
      })),
    );
    return { result, dom, errors, wasm, origin: new URL(url).origin };
  } finally {
    await page.close();
  }
}

/** What every app must show after a 3-week run: weeks 1..3, each with days 1..7. */
export function assertRendered({ result, dom, errors }, weeks = 3) {
  assert.equal(result?.ok, true, `the app reported: ${JSON.stringify(result)}`);
  assert.deepEqual(
    dom,
    Array.from({ length: weeks }, (_, i) => ({ week: i + 1, days: [1, 2, 3, 4, 5, 6, 7] })),
    'rendered weeks and days',
  );
  assert.deepEqual(errors, [], 'no console errors');
}

/** The mock's log for this key: requests came from the page's origin, the key only in the header. */
export async function assertMockTraffic(mockUrl, key, origin) {
  const { requests } = await import('../../mock/control.mjs');
  const all = await requests(mockUrl, { key });
  const log = all.filter((r) => r.kind === 'generate' || r.kind === 'stream');
  assert.ok(log.length >= 2, `expected an outline and at least one batch request, got ${log.length}`);
  for (const r of log) assert.equal(r.status, 200, `${r.method} ${r.path}`);
  for (const r of all.filter((r) => r.kind !== 'preflight')) {
    assert.equal(r.keyInUrl, false, 'the API key never goes in the URL');
    assert.equal(r.origin, origin, 'requests come from the page');
  }
  return log;
}
