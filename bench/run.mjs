// `npm run bench`: the built package (pkg/web) against the mock Gemini with a gemini-2.5-flash-like latency
// model, for each strategy at 12, 26 and 52 weeks. Prints a markdown table and the target checks, and writes
// bench/results.json and bench/results.md. Exit code 0 even when a target is missed (this is a report);
// non-zero only on errors (a crash, or token figures that disagree with what the mock received).
//
//   node bench/run.mjs [--time-scale 0.05] [--latency-ms 600] [--tokens-per-second 200]
//                      [--weeks 12,26,52] [--strategies single-call,sdk-chat,full-history,windowed,parallel] [--quiet]
//                      [--no-faults]  (skips the reliability runs: 12 weeks with the same scripted faults for each)
//                      [--rpm 5]      (the free-tier runs: windowed and parallel under a per-minute quota; 0 skips them)
//
// Times are reported un-scaled: measured wall time divided by the time scale.
import { readFileSync, writeFileSync, statSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startMock } from '../mock/gemini-mock.mjs';
import { requests, script, setConfig } from '../mock/control.mjs';
import { gzipSize, measureSize, kb } from '../scripts/size.mjs';
import { problems } from './checks.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

// ---------------------------------------------------------------------------------------------- arguments
const args = {
  timeScale: 0.05,
  latencyMs: 600,
  tokensPerSecond: 200,
  weeks: [12, 26, 52],
  strategies: ['single-call', 'sdk-chat', 'full-history', 'windowed', 'parallel'],
  role: 'DevOps Engineer',
  quiet: false,
  faults: true,
  // A free-tier key: 5 requests per minute, gemini-2.5-flash's free tier since December 2025 (and 20 a day, which a 52-week run
  // would not fit in; these runs leave the mock's daily quota, `rpd`, off).
  rpm: 5,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => {
    const v = process.argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    return v;
  };
  const num = (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${a}: ${v} is not a positive number`);
    return n;
  };
  switch (a) {
    case '--time-scale': args.timeScale = num(next()); break;
    case '--latency-ms': args.latencyMs = num(next()); break;
    case '--tokens-per-second': args.tokensPerSecond = num(next()); break;
    case '--weeks': args.weeks = next().split(',').map(num); break;
    case '--strategies': args.strategies = next().split(','); break;
    case '--role': args.role = next(); break;
    case '--quiet': args.quiet = true; break;
    case '--no-faults': args.faults = false; break;
    case '--rpm': {
      const v = Number(next());
      if (!Number.isInteger(v) || v < 0) throw new Error(`--rpm: ${process.argv[i]} is not a whole number`);
      args.rpm = v;
      break;
    }
    case '-h': case '--help':
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 8).join('\n'));
      process.exit(0);
      break;
    default: throw new Error(`unknown argument ${a}`);
  }
}

const STRATEGIES = {
  'single-call': {
    label: 'single-call',
    // The seed's "before": every week in one request, on the default model with its own output limit (65,536
    // tokens). The seed's gemini-2.0-flash cut such an answer at 8,192 tokens, but Google shut it down on
    // 2026-06-01 (it answers 404, as the mock does): today a single call is cut only past about 40 weeks.
    options: (weeks) => ({ batchWeeks: weeks }),
  },
  // The official SDK's chat (`@google/genai`), not this package: see sdkChatRoadmap below.
  'sdk-chat': { label: `SDK chat (@google/genai ${sdkVersion()})`, run: sdkChatRoadmap },
  'full-history': { label: 'full-history', options: () => ({ history: 'full' }) },
  windowed: { label: 'windowed', options: () => ({}) },
  parallel: { label: 'parallel (4)', options: () => ({ strategy: 'parallel', concurrency: 4 }) },
  // Free-tier runs only: two requests in flight, so the first week is not split into parts (fewer requests).
  'parallel-2': { label: 'parallel (2)', options: () => ({ strategy: 'parallel', concurrency: 2 }) },
};
function sdkVersion() {
  try {
    return JSON.parse(readFileSync(`${root}node_modules/@google/genai/package.json`, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

for (const s of args.strategies) if (!STRATEGIES[s]) throw new Error(`unknown strategy ${s}; known: ${Object.keys(STRATEGIES)}`);

const log = (...m) => { if (!args.quiet) console.error(...m); };

// ---------------------------------------------------------------------------------------------- package
const wasmPath = `${root}pkg/web/gemini_roadmap_bg.wasm`;
if (!existsSync(wasmPath)) {
  console.error('bench: pkg/web is missing: run `npm run build` first');
  process.exit(2);
}
const newestSource = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
  const p = `${dir}/${e.name}`;
  return Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.rs') ? statSync(p).mtimeMs : 0);
}, 0);
const stale = newestSource(`${root}src`) > statSync(wasmPath).mtimeMs;
if (stale) console.error('bench: WARNING: src/ changed after the last build; run `npm run build` for current numbers');

const { default: init, generateRoadmap } = await import(`${root}pkg/web/gemini_roadmap.js`);
await init({ module_or_path: readFileSync(wasmPath) });
// The SDK is loaded here too, before any clock starts, as our package is: neither run pays for loading its module.
let GoogleGenAI = null;
if (args.strategies.includes('sdk-chat')) {
  try {
    ({ GoogleGenAI } = await import('@google/genai'));
  } catch (e) {
    console.error(`bench: @google/genai cannot be loaded (${e.message}); the sdk-chat runs will fail`);
  }
}

// ---------------------------------------------------------------------------------------------- runs
const mock = await startMock({
  port: 0,
  latencyMs: args.latencyMs,
  tokensPerSecond: args.tokensPerSecond,
  timeScale: args.timeScale,
  // Answers follow what each request shows (titles, phases), and invent colliding titles for weeks it does
  // not: "no repeated week titles" then tests whether a strategy's prompts carry the plan.
  followPrompt: true,
  quiet: true,
});
const errors = [];
const rows = [];
const runId = Date.now().toString(36);

/**
 * The official SDK's chat, used the way its documentation shows: one `ai.chats.create` chat, the outline and
 * then one turn per 3 weeks, each answer read with `JSON.parse`. Same model and settings as the package (JSON
 * mode, the model's own temperature, no thinking), so the rows differ by approach only: the SDK resends the whole chat
 * every turn and returns an answer only when it is complete; it has no repair of cut or broken JSON.
 *
 * Around it, what a careful app would write: a failed turn (sendMessage throws, or its text is not JSON) is
 * taken out of the chat history if the SDK kept it, and the same prompt is sent again, up to SDK_ATTEMPTS
 * times per turn, the attempts our package makes by default. Nothing is repaired: an answer is used only when
 * JSON.parse reads it.
 */
// Our default: maxRetries 3 (src/roadmap/options.rs `retries()`), so 4 attempts per batch.
const SDK_ATTEMPTS = 4;
// Waits as src/retry.rs `RetryPolicy::default()` (base 1 s, doubling, at most 30 s, jittered to 50-100 %) after
// a failed request; an unusable answer is asked again at once, as our package asks again (a retry with no wait).
const sdkBackoffMs = (retry) => {
  const exp = Math.min(30_000, 1_000 * 2 ** (retry - 1));
  return exp / 2 + Math.random() * (exp / 2);
};
async function sdkChatRoadmap(key, weeks, onWeek) {
  if (!GoogleGenAI) throw new Error('@google/genai is not installed');
  // Its own retries (off unless asked for) on, as a careful user would: 408, 429 and 5xx, up to 4 attempts.
  const httpOptions = { baseUrl: mock.url, retryOptions: { attempts: 4 } };
  const ai = new GoogleGenAI({ apiKey: key, apiVersion: 'v1beta', httpOptions });
  // The package's default model and what the package sends it: no temperature (Gemini 3 keeps its 1.0), no thinking.
  const model = 'gemini-3.1-flash-lite';
  const config = { responseMimeType: 'application/json', thinkingConfig: { thinkingLevel: 'minimal' } };
  let chat = ai.chats.create({ model, config });
  const usage = { requests: 0, promptTokens: 0, outputTokens: 0 };
  const rm = { phases: [], weeks: [], usage, batches: [], warnings: [] };
  // Turns in the chat history: a user turn and the model's answer per answered turn (counted here rather than
  // read with getHistory(), which deep-copies the whole chat, inside the timed runs).
  let kept = 0;
  const ask = async (message, what) => {
    const report = { what, status: 'ok', attempts: 0, failures: [] };
    rm.batches.push(report);
    for (;;) {
      report.attempts++;
      usage.requests++;
      let failure;
      try {
        const r = await chat.sendMessage({ message });
        usage.promptTokens += r.usageMetadata?.promptTokenCount ?? 0;
        usage.outputTokens += r.usageMetadata?.candidatesTokenCount ?? 0;
        try {
          const parsed = JSON.parse(r.text);
          kept += 2;
          if (report.attempts > 1) report.status = 'recovered';
          return parsed;
        } catch (e) {
          failure = Object.assign(new Error(`JSON.parse: ${e.message}`), { code: 'SyntaxError', wait: false });
        }
      } catch (e) {
        failure = Object.assign(e, { wait: true });
      }
      // The SDK keeps a turn whose answer arrived, cut or not: it would be resent with every later turn, and
      // the same prompt asked again would follow it. A new chat from the history before the turn drops it.
      const history = chat.getHistory();
      if (history.length > kept) chat = ai.chats.create({ model, config, history: history.slice(0, kept) });
      report.failures.push(String(failure.message).slice(0, 80));
      if (report.attempts >= SDK_ATTEMPTS) {
        report.status = 'failed';
        throw Object.assign(failure, { partial: rm });
      }
      if (failure.wait) await new Promise((resolve) => setTimeout(resolve, sdkBackoffMs(report.attempts)));
    }
  };
  const head = `Role: ${args.role}\nTotal weeks: ${weeks}\n`;
  const plan = await ask(`${head}TASK: OUTLINE\nPlan the roadmap as JSON: ` +
    '{"phases":[{"name","startWeek","endWeek"}],"weeks":[{"week","title","phase"}]}.', 'outline');
  rm.phases = plan.phases ?? [];
  for (let a = 1; a <= weeks; a += 3) {
    const b = Math.min(weeks, a + 2);
    const answer = await ask(`${head}TASK: WEEKS ${a}-${b}\nWrite weeks ${a}-${b} of the plan as JSON: ` +
      '{"weeks":[{"week","title","phase","days":[{"day","title","tasks","hours"}]}]}, 7 days each, continuing from the weeks before.',
    `${a}-${b}`);
    for (const w of answer.weeks ?? []) {
      rm.weeks.push(w);
      onWeek(w);
    }
  }
  return rm;
}

// Every run gets its own key (a run number in it): a week count given twice (`--weeks 12,12`) or a warm-up of
// the same length as a timed run must not share a key, or their scripts and request logs would mix.
let runSeq = 0;
async function runOne(strategy, weeks, { faults = null, tag = '' } = {}) {
  const key = `bench-${runId}-${++runSeq}-${strategy}-${weeks}${faults ? '-faults' : ''}${tag ? `-${tag}` : ''}`;
  if (faults) await script(mock.url, key, faults);
  const spec = STRATEGIES[strategy];
  const extra = spec.options ? spec.options(weeks) : {};
  let firstWeekAt = null;
  let weekEvents = 0;
  // The first week the user can read: a placeholder (`fallback`) is no week arrived.
  const onWeek = (week) => {
    weekEvents++;
    if (firstWeekAt === null && !week?.fallback) firstWeekAt = performance.now();
  };
  const t0 = performance.now();
  let rm = null;
  let error = null;
  try {
    rm = spec.run
      ? await spec.run(key, weeks, onWeek)
      : await generateRoadmap({
        apiKey: key,
        baseUrl: mock.url,
        role: args.role,
        weeks,
        log: false,
        ...extra,
        onProgress: (e) => {
          if (e.type === 'week') onWeek(e.week);
        },
      });
  } catch (e) {
    error = e;
    rm = e.partial || null;
  }
  const wallMs = performance.now() - t0;
  const log_ = await requests(mock.url, { key });
  const api = log_.filter((r) => ['generate', 'stream', 'getModel'].includes(r.kind));
  const sum = (f) => api.reduce((s, r) => s + (Number(r[f]) || 0), 0);
  const mockSide = {
    requests: api.length,
    bodyBytes: sum('bodyBytes'),
    promptTokens: sum('promptTokens'),
    // the prompts of the requests for weeks (or days) only: without the outline's and the model lookup's
    weekPromptTokens: api.filter((r) => r.task && (r.task.kind === 'weeks' || r.task.kind === 'days'))
      .reduce((s, r) => s + (Number(r.promptTokens) || 0), 0),
    candidatesTokens: sum('candidatesTokenCount'),
    maxTokensAnswers: api.filter((r) => r.finishReason === 'MAX_TOKENS').length,
    // refused by the per-minute quota (free-tier runs)
    rateLimited: api.filter((r) => r.rateLimited).length,
    // prompt tokens served from the mock's implicit cache (a prefix shared with an earlier request of the run)
    cachedTokens: sum('cachedTokens'),
  };
  const usage = rm ? rm.usage : null;
  const scale = args.timeScale;
  const row = {
    strategy,
    label: spec.label,
    weeks,
    key,
    options: extra,
    requests: usage ? usage.requests : mockSide.requests,
    promptTokens: usage ? usage.promptTokens : null,
    outputTokens: usage ? usage.outputTokens : null,
    wallSeconds: wallMs / 1000 / scale,
    timeToFirstWeekSeconds: firstWeekAt === null ? null : (firstWeekAt - t0) / 1000 / scale,
    weekEvents,
    error: error ? { code: error.code || error.name, message: String(error.message).slice(0, 300) } : null,
    problems: rm ? problems(rm, weeks) : 'no roadmap',
    fallbackWeeks: rm ? rm.weeks.filter((w) => w.fallback).length : null,
    batches: rm ? rm.batches.map((b) => `${b.what ?? `${b.startWeek}-${b.endWeek}`}:${b.status}${b.attempts > 1 ? `x${b.attempts}` : ''}`) : [],
    warnings: rm ? rm.warnings.length : null,
    // The SDK chat's failed attempts, per turn (why it asked again); our package reports them as warnings.
    failedAttempts: rm && rm.batches.some((b) => b.failures) ? rm.batches.filter((b) => b.failures?.length)
      .map((b) => ({ turn: b.what, failures: b.failures })) : undefined,
    mock: mockSide,
  };
  row.completeAndValid = !error && row.problems === '';
  if (faults) {
    // Every scripted step must have been used and have had its effect (the mock's `faultApplied`), or the row
    // measures less than it claims (a cut past the end of a short answer is no cut).
    const scripted = api.filter((r) => r.scripted);
    row.faultsTookEffect = faults.map((step) => {
      const e = scripted.find((r) => (r.fault ?? null) === (step.fault ?? null));
      const ok = !!e && (!step.fault || e.faultApplied === true) &&
        (step.fault !== 'truncate' || e.finishReason === 'MAX_TOKENS') && (step.fault !== 'status' || e.status === step.status);
      if (!ok) {
        errors.push(`${strategy} ${weeks}w with faults: the scripted step "${faultName(step)}" had no effect ` +
          `(${e ? `logged faultApplied ${e.faultApplied}, status ${e.status}, finishReason ${e.finishReason}` : 'never used'})`);
      }
      return { step: faultName(step), seq: e ? e.seq : null, tookEffect: ok };
    });
  }
  // Cross-checks. (1) Per request, the mock's charge against the token rule it documents (mock/README.md:
  // ceil(code points / 4) of the systemInstruction text, every turn's text and the response schema's JSON), computed here from the prompt
  // characters of the body the mock received (its log's `promptChars`): they must be equal. (2) Per run, the
  // client's usage against the sum of those expected counts (exact without faults; with faults a client may
  // not see what a failed request cost, e.g. the SDK's own retries) and against the mock's log.
  const charged = api.filter((r) => r.promptTokens != null);
  const expectedOf = (r) => Math.ceil(r.promptChars / 4);
  const wrong = charged.filter((r) => !Number.isInteger(r.promptChars) || r.promptTokens !== expectedOf(r) ||
    r.promptChars > r.bodyBytes);
  for (const r of wrong.slice(0, 3)) {
    errors.push(`${strategy} ${weeks}w${faults ? ' with faults' : ''}: request ${r.seq} was charged ${r.promptTokens} prompt tokens; ` +
      `its body holds ${r.promptChars} prompt characters in ${r.bodyBytes} bytes, ceil(chars / 4) = ${expectedOf(r)}`);
  }
  if (wrong.length > 3) errors.push(`${strategy} ${weeks}w${faults ? ' with faults' : ''}: ${wrong.length - 3} more requests charged off the token rule`);
  mockSide.promptChars = charged.reduce((s, r) => s + (r.promptChars || 0), 0);
  mockSide.expectedPromptTokens = charged.reduce((s, r) => s + expectedOf(r), 0);
  const check = (what, ours, theirs, exact = false) => {
    const ratio = theirs ? ours / theirs : ours === theirs ? 1 : Infinity;
    if (!faults && !(exact ? ours === theirs : Math.abs(ratio - 1) <= 0.1)) {
      errors.push(`${strategy} ${weeks}w: ${what}: usage says ${ours}, expected ${theirs} (ratio ${ratio.toFixed(3)})`);
    }
    return ratio;
  };
  if (usage) {
    row.check = {
      requestsChargedByTheRule: `${charged.length - wrong.length}/${charged.length}`,
      promptTokensVsExpected: check('prompt tokens (against ceil(chars / 4) of each request body)', usage.promptTokens, mockSide.expectedPromptTokens, true),
      promptTokensVsMock: check('prompt tokens (against the mock log)', usage.promptTokens, mockSide.promptTokens, true),
      outputTokensVsMock: check('output tokens', usage.outputTokens, mockSide.candidatesTokens),
      requestsVsMock: check('requests', usage.requests, mockSide.requests),
      promptBytesPerToken: mockSide.bodyBytes / Math.max(1, usage.promptTokens),
      // How much of the bytes sent is prompt text (the rest is JSON syntax, field names and escapes).
      promptTextShareOfBytes: mockSide.promptChars / Math.max(1, mockSide.bodyBytes),
    };
  }
  return row;
}

function faultName(f) {
  if (!f.fault) return 'normal';
  if (f.status) return `${f.fault} ${f.status}`;
  if (f.atChars != null) return `${f.fault} at ${f.atChars} chars`;
  if (f.atFraction != null) return `${f.fault} at ${Math.round(f.atFraction * 100)} % of the answer`;
  return f.fault;
}
const fmtInt = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtS = (s) => (s === null || s === undefined ? '–' : `${s.toFixed(1)} s`);
function verdict(r) {
  if (r.completeAndValid) return 'yes';
  if (r.error) return `no: ${r.error.code}${r.problems && r.problems !== 'no roadmap' ? `, partial: ${r.problems}` : ''}`;
  return `no: ${r.problems}`;
}

// Reliability: every strategy gets these answers for its first generate requests, in order, then normal ones.
// Which request meets which fault depends on the strategy (retries, concurrency); the mix is what a long run
// can meet, the most common first: an overloaded model, an answer cut at maxOutputTokens, a stream (or body)
// that ends halfway, JSON with trailing commas, fenced JSON.
const FAULTS = [
  {},
  { fault: 'status', status: 503 },
  // A share of the answer, not a count of characters: parallel's first answers (parts of week 1, ~2,600
  // characters) are shorter than a fixed cut of 8,000 characters and would come back whole.
  { fault: 'truncate', atFraction: 0.5 },
  { fault: 'sse-cut' },
  { fault: 'trailing-comma' },
  { fault: 'fenced' },
];
const faultRows = [];
const freeTierRows = [];

const started = performance.now();
try {
  // Warm-up (not reported): the first run of a code path pays for compiling it (the wasm, the SDK's JS) and for
  // opening connections. Every timed strategy gets the same one run of 3 weeks first, the SDK chat included.
  for (const strategy of args.strategies) {
    log(`bench: warm-up ${strategy} 3 weeks ...`);
    const r = await runOne(strategy, 3, { tag: 'warmup' });
    if (!r.completeAndValid) errors.push(`warm-up ${strategy} 3 weeks failed: ${verdict(r)}`);
  }
  for (const weeks of args.weeks) {
    for (const strategy of args.strategies) {
      log(`bench: ${strategy} ${weeks} weeks ...`);
      const r = await runOne(strategy, weeks);
      rows.push(r);
      log(`bench:   ${fmtS(r.wallSeconds)} wall, ${fmtS(r.timeToFirstWeekSeconds)} to the first week, ` +
        `${r.requests} requests, ${fmtInt(r.promptTokens)} prompt / ${fmtInt(r.outputTokens)} output tokens, ${verdict(r)}`);
    }
  }
  if (args.faults) {
    for (const strategy of args.strategies.filter((s) => s !== 'single-call')) {
      log(`bench: ${strategy} 12 weeks with faults ...`);
      const r = await runOne(strategy, 12, { faults: FAULTS });
      faultRows.push(r);
      log(`bench:   ${r.requests} requests, ${verdict(r)}`);
    }
  }
  if (args.rpm > 0) {
    await setConfig(mock.url, { rpm: args.rpm });
    try {
      for (const weeks of args.weeks) {
        const strategies = args.strategies.filter((s) => s === 'windowed' || s === 'parallel');
        if (strategies.includes('parallel')) strategies.push('parallel-2');
        for (const strategy of strategies) {
          log(`bench: ${strategy} ${weeks} weeks at ${args.rpm} requests per minute ...`);
          const r = await runOne(strategy, weeks, { tag: `rpm${args.rpm}` });
          freeTierRows.push(r);
          log(`bench:   ${fmtS(r.wallSeconds)} wall, ${r.requests} requests (${r.mock.rateLimited} refused), ${verdict(r)}`);
        }
      }
    } finally {
      await setConfig(mock.url, { rpm: 0 });
    }
  }
} catch (e) {
  errors.push(`crash: ${e && e.stack ? e.stack : e}`);
} finally {
  await mock.close();
}
const benchSeconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------- report
const table = [
  '| strategy | weeks | requests | prompt tokens | output tokens | wall time | time to first week | complete & valid |',
  '|---|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.label} | ${r.weeks} | ${r.requests} | ${fmtInt(r.promptTokens)} | ${fmtInt(r.outputTokens)} | ` +
    `${fmtS(r.wallSeconds)} | ${fmtS(r.timeToFirstWeekSeconds)} | ${verdict(r)} |`),
].join('\n');

const crossTable = [
  '| strategy | weeks | requests charged ceil(chars / 4) | prompt tokens: usage / expected from the bodies | output tokens: usage / mock log | requests: usage / mock log | request bytes | prompt chars | bytes per prompt token |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.filter((r) => r.check).map((r) => `| ${r.label} | ${r.weeks} | ${r.check.requestsChargedByTheRule} | ` +
    `${fmtInt(r.promptTokens)} / ${fmtInt(r.mock.expectedPromptTokens)} (${r.check.promptTokensVsExpected.toFixed(3)}) | ` +
    `${fmtInt(r.outputTokens)} / ${fmtInt(r.mock.candidatesTokens)} (${r.check.outputTokensVsMock.toFixed(3)}) | ${r.requests} / ${r.mock.requests} | ` +
    `${fmtInt(r.mock.bodyBytes)} | ${fmtInt(r.mock.promptChars)} | ${r.check.promptBytesPerToken.toFixed(2)} |`),
].join('\n');

const find = (s, w) => rows.find((r) => r.strategy === s && r.weeks === w);
const targets = [];
function target(name, ok, detail) {
  targets.push({ name, result: ok === null ? 'n/a' : ok ? 'PASS' : 'MISS', detail });
}
{
  const w = find('windowed', 52), f = find('full-history', 52);
  if (w && f && w.promptTokens && f.promptTokens && w.completeAndValid && f.completeAndValid) {
    const ratio = w.promptTokens / f.promptTokens;
    target('prompt tokens at 52 weeks: windowed ≤ 0.25 × full-history', ratio <= 0.25,
      `${fmtInt(w.promptTokens)} vs ${fmtInt(f.promptTokens)} = ${ratio.toFixed(3)} ×`);
  } else target('prompt tokens at 52 weeks: windowed ≤ 0.25 × full-history', null, 'not measured or not valid');
}
{
  const runs = args.weeks.map((n) => [n, find('windowed', n)]).filter(([, r]) => r && r.promptTokens && r.completeAndValid);
  const per = runs.map(([n, r]) => [n, r.promptTokens / n]);
  // The same without the outline's fixed cost, which a longer roadmap spreads over more weeks.
  const perBatch = runs.map(([n, r]) => [n, r.mock.weekPromptTokens / n]);
  if (per.length >= 2 && per[0][0] === 12) {
    const change = (list) => Math.max(...list.map(([, v]) => Math.abs(v / list[0][1] - 1)));
    const worst = change(per);
    target('windowed prompt tokens per week flat from 12 to 52 weeks (±20 %)', worst <= 0.2,
      `${per.map(([n, v]) => `${n}w: ${v.toFixed(0)}`).join(', ')} tokens/week; largest change ${(worst * 100).toFixed(1)} % ` +
      `(the weeks' own requests alone, without the outline's: ${perBatch.map(([n, v]) => `${n}w: ${v.toFixed(0)}`).join(', ')}; ` +
      `${(change(perBatch) * 100).toFixed(1)} %)`);
  } else target('windowed prompt tokens per week flat from 12 to 52 weeks (±20 %)', null, 'not measured or not valid');
}
{
  const p = find('parallel', 12), w = find('windowed', 12);
  if (p && w && p.completeAndValid && w.completeAndValid) {
    const ratio = p.wallSeconds / w.wallSeconds;
    target('wall time at 12 weeks: parallel ≤ 0.4 × windowed', ratio <= 0.4,
      `${fmtS(p.wallSeconds)} vs ${fmtS(w.wallSeconds)} = ${ratio.toFixed(3)} ×`);
  } else target('wall time at 12 weeks: parallel ≤ 0.4 × windowed', null, 'not measured or not valid');
}
for (const n of args.weeks) {
  const p = find('parallel', n);
  if (p && p.timeToFirstWeekSeconds !== null && p.completeAndValid) {
    const ratio = p.timeToFirstWeekSeconds / p.wallSeconds;
    // No week can arrive before one time-to-first-token plus one week of output, so the ratio holds only for a
    // wall time of at least 4 × that: below it, meeting the target would take a slower schedule, not a faster one.
    const weekSeconds = p.outputTokens ? p.outputTokens / n / args.tokensPerSecond : null;
    const floor = weekSeconds === null ? null : 4 * (args.latencyMs / 1000 + weekSeconds);
    const why = ratio > 0.25 && floor !== null && p.wallSeconds < floor
      ? `; the ratio needs a wall time ≥ 4 × (time to first token + one week of output, ~${fmtInt(p.outputTokens / n)} tokens) = ${fmtS(floor)}`
      : '';
    target(`parallel time to first week ≤ 0.25 × its wall time (${n} weeks)`, ratio <= 0.25,
      `${fmtS(p.timeToFirstWeekSeconds)} of ${fmtS(p.wallSeconds)} = ${ratio.toFixed(3)} ×${why}`);
  }
}
// Bytes, the third cost: what a web app ships (the same figures as `npm run size`), next to the official SDK's
// chat as a browser app would bundle it (esbuild, minified, tree-shaken, gzip -9).
const size = measureSize(`${root}pkg/web`);
const sdkBundle = await measureSdkChatBundle();
target(`package size: .wasm + JS glue ≤ 40 KB gzip -9 (\`@google/genai\` chat: ${sdkBundle ? `${kb(sdkBundle.gzip)} measured` : '~77 KB'})`,
  size.totalGzip <= 40 * 1024,
  `${kb(size.totalGzip)} gzip (.wasm ${kb(size.wasmGzip)} + glue ${kb(size.totalGzip - size.wasmGzip)}); ${kb(size.totalRaw)} raw`);

/** `ai.chats.create(...).sendMessage(...)` bundled for the browser; null when esbuild or the SDK is missing. */
async function measureSdkChatBundle() {
  try {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      stdin: {
        contents: "import { GoogleGenAI } from '@google/genai';\n" +
          'export async function ask(apiKey, message) {\n' +
          "  const chat = new GoogleGenAI({ apiKey }).chats.create({ model: 'gemini-3.1-flash-lite' });\n" +
          '  return (await chat.sendMessage({ message })).text;\n}\n',
        resolveDir: root,
        loader: 'js',
      },
      bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
    });
    const code = out.outputFiles[0].contents;
    return { raw: code.length, gzip: gzipSize(code), esbuild: esbuild.version, sdk: sdkVersion() };
  } catch (e) {
    log(`bench: the SDK chat bundle was not measured: ${e.message}`);
    return null;
  }
}
const targetLines = targets.map((t) => `- **${t.result}** ${t.name}: ${t.detail}`).join('\n');

// Our strategies against the official SDK's chat at each length: ratios of one run (below 1: we are cheaper/faster).
const sdkLines = args.weeks.map((n) => {
  const sdk = find('sdk-chat', n);
  if (!sdk || !sdk.completeAndValid) return null;
  const parts = ['windowed', 'parallel'].map((st) => {
    const r = find(st, n);
    if (!r || !r.completeAndValid) return null;
    const x = (a, b) => (a / b).toFixed(2);
    return `${r.label}: prompt tokens ${x(r.promptTokens, sdk.promptTokens)} ×, wall time ${x(r.wallSeconds, sdk.wallSeconds)} ×, ` +
      `time to first week ${x(r.timeToFirstWeekSeconds, sdk.timeToFirstWeekSeconds)} ×`;
  }).filter(Boolean);
  return parts.length ? `- ${n} weeks: ${parts.join('; ')}` : null;
}).filter(Boolean);

// What the input costs once implicit caching is counted: on gemini-3.1-flash-lite a cached token is billed at 10 %
// of an input token ($0.025 against $0.25 per million). The mock caches every shared prefix from 4,096 tokens up
// (2,048 on 2.5 models), the most favourable case for strategies that resend a growing history.
const CACHED_PRICE = 0.1;
const billed = (r) => r.mock.promptTokens - r.mock.cachedTokens * (1 - CACHED_PRICE);
const cacheRows = rows.filter((r) => r.mock.promptTokens > 0 && r.strategy !== 'single-call');
const cacheTable = cacheRows.length ? [
  '| strategy | weeks | prompt tokens (mock log) | of which cached | billed as input tokens | against the SDK chat |',
  '|---|---:|---:|---:|---:|---:|',
  ...cacheRows.map((r) => {
    const sdk = find('sdk-chat', r.weeks);
    const vs = sdk && sdk.mock.promptTokens ? `${(billed(r) / billed(sdk)).toFixed(2)} ×` : '–';
    return `| ${r.label} | ${r.weeks} | ${fmtInt(r.mock.promptTokens)} | ${fmtInt(r.mock.cachedTokens)} | ${fmtInt(billed(r))} | ${vs} |`;
  }),
].join('\n') : null;

let commit = null;
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  if (execFileSync('git', ['status', '--porcelain', 'src'], { cwd: root, encoding: 'utf8' }).trim()) commit += '+dirty';
} catch { /* not a git checkout */ }

const config = {
  latencyModel: `gemini-2.5-flash-like: ${args.latencyMs} ms to first token + ${args.tokensPerSecond} tokens/s (mock --latency-ms/--tokens-per-second)`,
  latencyMs: args.latencyMs,
  tokensPerSecond: args.tokensPerSecond,
  timeScale: args.timeScale,
  role: args.role,
  node: process.version,
  commit,
  staleBuild: stale,
  date: new Date().toISOString(),
  benchSeconds,
};
const faultTable = faultRows.length ? [
  '| strategy | requests (mock log) | prompt tokens (mock log) | output tokens (mock log) | weeks delivered | complete & valid | batches |',
  '|---|---:|---:|---:|---:|---|---|',
  ...faultRows.map((r) => `| ${r.label} | ${r.mock.requests} | ${fmtInt(r.mock.promptTokens)} | ${fmtInt(r.mock.candidatesTokens)} | ${r.weekEvents} | ${verdict(r)} | ${r.batches.join(' ') || '–'} |`),
].join('\n') : null;
const faultNames = FAULTS.map(faultName).join(', ');
const unlimited = (r) => rows.find((u) => u.strategy === r.strategy && u.weeks === r.weeks);
const freeTierTable = freeTierRows.length ? [
  '| strategy | weeks | requests | refused (429) | wall time | without the quota | time to first week | complete & valid |',
  '|---|---:|---:|---:|---:|---:|---:|---|',
  ...freeTierRows.map((r) => `| ${r.label} | ${r.weeks} | ${r.requests} | ${r.mock.rateLimited} | ${fmtS(r.wallSeconds)} | ` +
    `${fmtS(unlimited(r)?.wallSeconds)} | ${fmtS(r.timeToFirstWeekSeconds)} | ${verdict(r)} |`),
].join('\n') : null;
const results = {
  config, rows, size, sdkChatBundle: sdkBundle, targets, faults: { steps: FAULTS, rows: faultRows },
  freeTier: { rpm: args.rpm, rows: freeTierRows }, errors,
};
writeFileSync(`${here}results.json`, JSON.stringify(results, null, 2) + '\n');
const md = [
  `Latency model: ${config.latencyModel}; time scale ${args.timeScale} (times below are un-scaled); ` +
    `role "${args.role}"; Node ${process.version}; commit ${commit ?? 'unknown'}.`,
  '',
  table,
  '',
  'Token figures cross-checked against the mock\'s request log (`GET /__mock/requests?key=K`): every request\'s charge ' +
    'must equal ceil(code points / 4) of the prompt text (turns, system instruction and response schema) in the body the mock received (`promptChars`), and the usage ' +
    'the sum of those:',
  '',
  crossTable,
  '',
  'Targets:',
  '',
  targetLines,
  '',
  ...(sdkLines.length ? ['Against the official SDK\'s chat (same model and settings; below 1 × is cheaper or faster):', '', ...sdkLines, ''] : []),
  ...(cacheTable ? ['With implicit caching (the mock serves every prompt prefix of 4,096 tokens or more shared with an earlier ' +
    'request from its cache, as gemini-3.1-flash-lite may; a cached token is billed at 10 % of an input token):', '', cacheTable, ''] : []),
  ...(faultTable ? [`Reliability, 12 weeks: the first generate requests of every run are answered, in order: ${faultNames}; then normally.`, '', faultTable, ''] : []),
  ...(freeTierTable ? [`Free tier: the mock refuses a key's request beyond ${args.rpm} per minute (sliding window, mock clock) with ` +
    'Gemini\'s 429: `RetryInfo` with whole seconds, the exact wait in the message.', '', freeTierTable, ''] : []),
].join('\n');
writeFileSync(`${here}results.md`, md);

console.log(md);
console.log(`bench: ${benchSeconds.toFixed(0)} s in all; wrote bench/results.json and bench/results.md`);
if (errors.length) {
  console.error('\nbench: ERRORS');
  for (const e of errors) console.error(`  - ${e}`);
  process.exit(1);
}
