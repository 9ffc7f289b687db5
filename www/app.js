// Gemini Roadmap demo page: the form, a run of generateRoadmap with live progress, the roadmap view,
// exports and persistence. Plain ES module, no framework, no build step.
import init, { generateRoadmap, regenerateWeek } from '/pkg/web/gemini_roadmap.js';
import { toJson, toMarkdown, toIcs, fileBase, nextMonday, oneLine } from './exports.js';
import { el, fallbackReason, phaseItems, weekCard } from './render.js';

const GOOGLE_URL = 'https://generativelanguage.googleapis.com';
/** Not a secret: the local mock accepts any key of 8+ characters that does not start with "bad". */
const DEMO_KEY = 'offline-demo-key';
const STORE_KEY = 'gemini-roadmap:last-roadmap'; // localStorage: the last roadmap, never the key
const KEY_SLOT = 'gemini-roadmap:api-key'; // sessionStorage, only when "Remember in this tab" is ticked
const RUN_LOCK = 'gemini-roadmap:run'; // Web Locks: held by the one tab generating (a roadmap or a week)

/** The model the package uses when none is given, and the form's first choice. */
const DEFAULT_MODEL = 'gemini-3.1-flash-lite';

/**
 * USD per 1M tokens (list prices of November 2026, paid tier, text). Thinking tokens are billed as output.
 * gemini-2.5-flash is no longer offered (Google shut it down on 2026-12-01) but prices roadmaps saved with it.
 */
export const PRICES = {
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-3.8-flash': { input: 0.75, output: 3.75 },
  'gemini-3.1-flash-lite': { input: 0.25, output: 1.5 },
  'gemini-3.1-pro-preview': { input: 2, output: 12 },
};

/** Form fields by the name `generateRoadmap` uses in `err.field`. */
const FIELD_INPUTS = {
  role: 'role',
  weeks: 'weeks',
  level: 'level',
  hoursPerDay: 'hours',
  batchWeeks: 'batch',
  apiKey: 'apiKey',
  model: 'model',
  baseUrl: 'baseUrl',
};

const $ = (id) => document.getElementById(id);
const ui = Object.fromEntries(
  [
    'roadmap-form', 'role', 'weeks', 'hours', 'level', 'batch', 'parallel', 'apiKey', 'rememberKey', 'model', 'baseUrl',
    'backend-status', 'backend-label', 'form-error', 'generate', 'cancel', 'continue', 'empty-state',
    'status-card', 'status-title', 'status-detail', 'progress', 'save-warning', 'error-box', 'error-code', 'error-title',
    'error-advice', 'error-detail', 'log', 'usage-card', 'u-requests', 'u-prompt', 'u-output', 'u-thoughts',
    'u-cost', 'u-note', 'roadmap', 'roadmap-title', 'roadmap-meta', 'phases', 'weeks-list', 'startDate',
    'export-json', 'export-md', 'export-ics', 'clear', 'discard-note',
  ].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), $(id)]),
);

let config = { mockUrl: '' };
let wasmReady = false;
/** What is on screen: { roadmap, params, model, offline, complete }. */
let current = null;
/** The active generateRoadmap call. */
let run = null;
let runSeq = 0;
/** The active regenerateWeek call: { controller, button, startedAt }. Its button cancels it, Clear aborts it; a new run waits for it. */
let regen = null;
/** "Generate new roadmap" was pressed once while Continue is offered: the next press discards the kept weeks. */
let discardArmed = false;
/** When the discard was armed: a second press within DOUBLE_PRESS_MS is the same press (a double click or tap). */
let discardArmedAt = 0;

// ───────────── small helpers ─────────────

const fmt = new Intl.NumberFormat('en-US');
const emptyUsage = () => ({ promptTokens: 0, outputTokens: 0, thoughtsTokens: 0, totalTokens: 0, requests: 0 });
const range = (a, b) => (a === b ? `week ${a}` : `weeks ${a}-${b}`);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const batches = (n) => `${n} ${n === 1 ? 'batch' : 'batches'}`;
const outlineComplete = (rm) =>
  !!rm && Array.isArray(rm.outline) && rm.outline.length === rm.totalWeeks && rm.totalWeeks > 0;
// Placeholder weeks (`fallback`) are left to do: Continue (`resumeFrom`) asks for them again.
const finishedWeeks = (rm) => (rm?.weeks || []).filter((w) => !w.fallback).length;
const weeksLeft = (rm) => (rm ? rm.totalWeeks - finishedWeeks(rm) : 0);
/** "3 of 9 weeks (2 placeholders to write again)": the weeks kept, counted as Continue counts them. */
const keptText = (rm) => {
  const placeholders = (rm.weeks?.length ?? 0) - finishedWeeks(rm);
  return `${finishedWeeks(rm)} of ${plural(rm.totalWeeks, 'week')}${placeholders ? ` (${plural(placeholders, 'placeholder')} to write again)` : ''}`;
};
/** Whether weeks `from`..`to` (a batch's) hold a placeholder: its progress segment is amber. */
const holdsPlaceholder = (rm, from, to) => rm.weeks.some((w) => w.fallback && w.week >= from && w.week <= to);
/** A stopped run that still got every week, none a placeholder: nothing is left to continue. */
const allArrived = (rm) => outlineComplete(rm) && weeksLeft(rm) === 0;
/** Every week is there (placeholders included): regenerateWeek writes a week again only within a whole roadmap. */
const whole = (rm) => !!rm && (rm.weeks?.length ?? 0) === rm.totalWeeks;
const NOT_WHOLE = 'Continue the roadmap first: a week is written again only in a whole roadmap';

/** Continue is on offer: a stopped run (or a restored unfinished one) whose outline is complete, with weeks left. */
function resumable(state = document.body.dataset.state) {
  return !elsewhere && (state === 'cancelled' || state === 'failed' || state === 'partial') && outlineComplete(current?.roadmap) && weeksLeft(current.roadmap) > 0;
}

/** A placeholder week's note: the button that asks for it again now (a whole roadmap's, or Continue's). */
function placeholderAdvice(state) {
  if (state !== 'running' && !regen && whole(current?.roadmap)) return 'Regenerate it for a full plan.';
  return resumable(state) ? 'Continue asks for it again.' : 'Once the run ends, Continue or “Regenerate week” asks for it again.';
}

function setState(state) {
  document.body.dataset.state = state;
  disarmDiscard();
  const canContinue = resumable(state);
  ui.generate.hidden = state === 'running';
  ui.generate.disabled = !wasmReady || state === 'running' || !!regen;
  ui.cancel.hidden = state !== 'running';
  // Cleared while another tab generates, its next save would bring the roadmap back.
  ui.clear.disabled = state === 'running' || elsewhere;
  ui.continue.hidden = !canContinue;
  ui.continue.disabled = !!regen;
  if (canContinue) {
    const left = weeksLeft(current.roadmap);
    ui.continue.textContent = `Continue (${plural(left, 'week')} left)`;
  }
  // After a stop, Continue is the recommended action.
  ui.generate.className = `btn ${canContinue ? 'btn--secondary' : 'btn--primary'}`;
  ui.generate.textContent = current?.roadmap && state !== 'idle' ? 'Generate new roadmap' : 'Generate roadmap';
  // While a week regenerates, its own button (then "Cancel regeneration") stays enabled.
  const canRegenerate = whole(current?.roadmap);
  for (const b of ui.weeksList.querySelectorAll('[data-action="regenerate"]')) {
    b.disabled = state === 'running' || (!!regen && b !== regen.button) || !canRegenerate;
    b.title = canRegenerate ? '' : NOT_WHOLE;
  }
  for (const note of ui.weeksList.querySelectorAll('.flag__next')) note.textContent = placeholderAdvice(state);
}

function disarmDiscard() {
  discardArmed = false;
  ui.discardNote.hidden = true;
  ui.discardNote.textContent = '';
}

/**
 * The first press of "Generate new roadmap" while Continue is offered only asks: the button names what a second
 * press discards, and a note next to it offers Continue instead.
 */
function armDiscard() {
  const rm = current.roadmap;
  // Counted as Continue counts them: placeholders are weeks to write again, not kept ones.
  const kept = finishedWeeks(rm);
  discardArmed = true;
  discardArmedAt = performance.now();
  ui.generate.textContent = kept ? `Discard ${plural(kept, 'kept week')} and start over` : 'Discard the outline and start over';
  ui.discardNote.textContent = `The unfinished roadmap is replaced by a new one; ready so far: ${keptText(rm)}. Press again to confirm, or press Continue to finish it.`;
  ui.discardNote.hidden = false;
}

function addLog(text, kind = '') {
  const time = new Date().toLocaleTimeString('en-GB', { hour12: false });
  ui.log.append(el('li', { className: kind ? `log__line log__line--${kind}` : 'log__line' }, el('time', {}, time), ' ', text));
  ui.log.scrollTop = ui.log.scrollHeight;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ───────────── backend & form ─────────────

function backend() {
  const key = ui.apiKey.value.trim();
  const model = ui.model.value;
  if (key) {
    const baseUrl = ui.baseUrl.value.trim() || GOOGLE_URL;
    return { offline: false, apiKey: key, baseUrl, model };
  }
  return { offline: true, apiKey: DEMO_KEY, baseUrl: config.mockUrl, model };
}

function renderBackend() {
  const b = backend();
  let label;
  if (!b.offline) {
    let host = 'Google';
    try {
      const u = new URL(b.baseUrl);
      if (u.origin !== GOOGLE_URL) host = u.host;
    } catch {
      host = 'an invalid base URL';
    }
    label = host === 'Google' ? `Google Gemini · ${b.model}` : `Gemini API at ${host} · ${b.model}`;
  } else if (config.mockUrl) {
    label = 'Offline demo model (local mock) · no key needed';
  } else {
    label = 'No offline model on this server · add an API key';
  }
  ui.backendLabel.textContent = label;
  ui.backendStatus.dataset.backend = b.offline ? 'offline' : 'gemini';
  // Without the offline model (static hosting) the key is required.
  ui.apiKey.placeholder = config.mockUrl ? 'Leave empty for the offline demo' : 'Your Gemini API key (required here)';
  $('key-optional').textContent = config.mockUrl ? 'optional' : 'required';
}

function clearErrors() {
  for (const input of ui.roadmapForm.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute('aria-invalid');
  for (const p of ui.roadmapForm.querySelectorAll('.field__error')) {
    p.hidden = true;
    p.textContent = '';
  }
  ui.formError.hidden = true;
  ui.formError.textContent = '';
}

/** Shows `errors` ({inputId: message}) next to their fields and focuses the first one. */
function showFieldErrors(errors) {
  let first = null;
  for (const [id, message] of Object.entries(errors)) {
    const input = $(id);
    const slot = $(`${id}-error`);
    if (!input || !slot) continue;
    input.setAttribute('aria-invalid', 'true');
    slot.textContent = message;
    slot.hidden = false;
    first ??= input;
  }
  if (first) {
    const details = first.closest('details');
    if (details) details.open = true;
    first.focus();
  }
}

function showFormError(message) {
  ui.formError.textContent = message;
  ui.formError.hidden = false;
}

/** A roadmap started on Gemini is not finished by the offline model (or the other way round). */
function checkSameBackend(b, errors) {
  if (!current?.roadmap || current.offline === b.offline) return;
  errors.apiKey = current.offline
    ? 'This roadmap was made by the offline demo model. Clear the key to continue it here, or generate a new one with Gemini.'
    : 'This roadmap was started with Google Gemini. Enter your API key to go on with it (it is kept only if you tick “Remember in this tab”).';
}

function readBackend(errors) {
  const b = backend();
  if (b.offline && !config.mockUrl) {
    errors.apiKey = 'The offline demo model is not available on this server. Enter a Gemini API key to continue.';
  }
  if (!b.offline) {
    let ok = false;
    let allowed = true;
    try {
      const u = new URL(b.baseUrl);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && !u.search && !u.hash && !u.username && !u.password;
      // What the page's Content-Security-Policy lets it connect to (connect-src): any other address would fail as
      // a NETWORK error that blames the connection.
      allowed = u.origin === new URL(GOOGLE_URL).origin || u.origin === location.origin || (u.protocol === 'http:' && u.hostname === '127.0.0.1');
    } catch {
      ok = false;
    }
    if (!ok) errors.baseUrl = 'Enter an http(s) address without ?query, #fragment or credentials, e.g. https://generativelanguage.googleapis.com.';
    else if (!allowed) errors.baseUrl = `This page may connect only to Google’s address, to http://127.0.0.1 (a local mock, any port) or to ${location.origin} (its Content-Security-Policy).`;
  }
  return b;
}

/** Batch size from the form (3 when empty); a message in `errors.batch` when it is not valid. */
function readBatch(errors) {
  const batchText = ui.batch.value.trim();
  const batch = batchText ? Number(batchText) : 3;
  // Text the number input cannot read ("3e", "--2") reads as "", as if left empty: it is not.
  if (ui.batch.validity.badInput || !Number.isInteger(batch) || batch < 1 || batch > 52) errors.batch = 'Enter a whole number from 1 to 52 (3 works well).';
  return batch;
}

/** Validates the form; returns { params, backend } or null after showing the errors. */
function readForm() {
  const errors = {};
  const role = oneLine(ui.role.value);
  if (!role) errors.role = 'Enter a role or goal, e.g. “Frontend Developer”.';
  else if ([...role].length > 120) errors.role = 'Keep the role under 120 characters.';

  const weeksText = ui.weeks.value.trim();
  const weeks = Number(weeksText);
  if (!weeksText || !Number.isInteger(weeks) || weeks < 1 || weeks > 52) errors.weeks = 'Enter a whole number of weeks from 1 to 52.';

  const hoursText = ui.hours.value.trim();
  const hours = Number(hoursText);
  // Unreadable text ("2e", "-") reads as "" too: refused, not sent as "no hours given".
  if (ui.hours.validity.badInput || (hoursText && !(Number.isFinite(hours) && hours >= 0.5 && hours <= 16))) errors.hours = 'Enter hours per day from 0.5 to 16.';

  const batch = readBatch(errors);

  const b = readBackend(errors);
  if (Object.keys(errors).length) {
    showFieldErrors(errors);
    return null;
  }
  const params = { role, weeks, batchWeeks: batch };
  if (ui.parallel.checked) params.strategy = 'parallel';
  if (ui.level.value) params.level = ui.level.value;
  if (hoursText) params.hoursPerDay = hours;
  return { params, backend: b };
}

function fillForm(params) {
  ui.role.value = params.role ?? '';
  ui.weeks.value = params.weeks ?? '';
  ui.level.value = params.level ?? '';
  ui.hours.value = params.hoursPerDay ?? '';
  ui.batch.value = params.batchWeeks ?? 3;
  ui.parallel.checked = params.strategy === 'parallel';
}

// ───────────── rendering ─────────────

function renderUsage() {
  const rm = current?.roadmap;
  if (!rm) {
    ui.usageCard.hidden = true;
    return;
  }
  const u = { ...emptyUsage(), ...(rm.usage || {}) };
  // Usage arrives with each finished batch; until then there is nothing honest to show.
  ui.usageCard.hidden = u.requests === 0;
  ui.uRequests.textContent = fmt.format(u.requests);
  ui.uPrompt.textContent = fmt.format(u.promptTokens);
  ui.uOutput.textContent = fmt.format(u.outputTokens);
  ui.uThoughts.textContent = fmt.format(u.thoughtsTokens);
  // Each model's share at its own prices: the roadmap's model, and any other a week was regenerated (or a run
  // continued) with.
  const priced = (m) => (Object.hasOwn(PRICES, m) ? m : DEFAULT_MODEL);
  const shares = new Map([[priced(current.model), ownUsage(current)]]);
  for (const [m, x] of Object.entries(current.otherUsage || {})) shares.set(priced(m), addUsage(shares.get(priced(m)), x));
  let usd = 0;
  const rates = [];
  for (const [m, x] of shares) {
    const p = PRICES[m];
    usd += (x.promptTokens * p.input + (x.outputTokens + x.thoughtsTokens) * p.output) / 1e6;
    rates.push(`${shares.size > 1 ? `${m}: ` : ''}input $${p.input.toFixed(2)}, output and thinking $${p.output.toFixed(2)} per 1M tokens`);
  }
  const money = usd === 0 ? '$0.00' : usd < 0.01 ? `≈ $${usd.toFixed(4)}` : `≈ $${usd.toFixed(usd < 1 ? 3 : 2)}`;
  ui.uCost.textContent = money;
  const models = [...shares.keys()].join(' and ');
  ui.uNote.textContent = current.offline
    ? `Offline demo: nothing is billed. Estimate of what this run would cost on ${models} at list prices (${rates.join('; ')}).`
    : `Estimate for ${models} at list prices (${rates.join('; ')}); the free tier, caching and price changes make your bill differ.`;
}

/** `a + b` (either may be missing), field by field. */
function addUsage(a, b) {
  const out = emptyUsage();
  for (const k of Object.keys(out)) out[k] = (Number(a?.[k]) || 0) + (Number(b?.[k]) || 0);
  return out;
}

/** `a - b`, field by field, never below 0. */
function subUsage(a, b) {
  const out = emptyUsage();
  for (const k of Object.keys(out)) out[k] = Math.max(0, (Number(a?.[k]) || 0) - (Number(b?.[k]) || 0));
  return out;
}

/** What the roadmap's own model used: its usage without what other models (`otherUsage`) used. */
function ownUsage(c) {
  return Object.values(c.otherUsage || {}).reduce(subUsage, addUsage(c.roadmap?.usage, null));
}

/** `c.otherUsage` with `usage` (used by `model`) added. */
function addToOther(c, model, usage) {
  return { ...(c.otherUsage || {}), [model]: addUsage(c.otherUsage?.[model], usage) };
}

/** `otherUsage` of a roadmap that goes on with `model`: what `c`'s own model used joins the others when it changes. */
function carryUsage(c, model) {
  if (!c?.roadmap) return {};
  const other = { ...(c.otherUsage || {}) };
  if (c.model !== model) other[c.model] = addUsage(other[c.model], ownUsage(c));
  return other;
}

function renderHeader(rm) {
  ui.roadmap.hidden = false;
  ui.emptyState.hidden = true;
  ui.roadmapTitle.textContent = `${rm.role} · ${rm.totalWeeks}-week roadmap`;
  const bits = [];
  if (rm.level) bits.push(rm.level);
  if (rm.hoursPerDay) bits.push(`${rm.hoursPerDay} h/day`);
  const n = (rm.weeks || []).length;
  // Ready as the status card and Continue count it: a placeholder is a week still to write.
  const ready = finishedWeeks(rm);
  const fallbacks = n - ready;
  bits.push(n === rm.totalWeeks ? `${plural(rm.totalWeeks * 7, 'day')}` : `${ready} of ${rm.totalWeeks} weeks ready`);
  if (fallbacks) bits.push(`${plural(fallbacks, 'placeholder week')}`);
  ui.roadmapMeta.textContent = bits.join(' · ');
}

function renderPhases(rm) {
  ui.phases.replaceChildren(...phaseItems(rm));
}

const cardSig = new WeakMap();

/** Inserts or replaces the card of `w`, keeping the list in week order. Returns the card. */
function upsertCard(rm, w) {
  const sig = JSON.stringify([w, w.fallback ? fallbackReason(rm, w.week) : '']);
  const existing = ui.weeksList.querySelector(`:scope > [data-week="${w.week}"]`);
  if (existing && cardSig.get(existing) === sig) return existing;
  const card = weekCard(rm, w, {
    canRegenerate: !run && !regen && whole(rm),
    offline: (run?.backend ?? current)?.offline ?? false,
    advice: placeholderAdvice(document.body.dataset.state),
  });
  cardSig.set(card, sig);
  if (existing) {
    // Keep the days the reader had opened.
    const open = new Set([...existing.querySelectorAll('details[open]')].map((d) => d.dataset.day));
    for (const d of card.querySelectorAll('details')) if (open.has(d.dataset.day)) d.open = true;
    existing.replaceWith(card);
    return card;
  }
  const next = [...ui.weeksList.children].find((c) => Number(c.dataset.week) > w.week);
  ui.weeksList.insertBefore(card, next ?? null);
  return card;
}

/** Shows `rm` completely: header, phases and cards (cards that did not change are kept). */
function renderRoadmap(rm) {
  renderHeader(rm);
  renderPhases(rm);
  const keep = new Set((rm.weeks || []).map((w) => String(w.week)));
  for (const c of [...ui.weeksList.children]) if (!keep.has(c.dataset.week)) c.remove();
  for (const w of [...(rm.weeks || [])].sort((a, b) => a.week - b.week)) upsertCard(rm, w);
}

function resetView() {
  ui.weeksList.replaceChildren();
  ui.phases.replaceChildren();
  ui.roadmap.hidden = true;
  ui.emptyState.hidden = false;
  ui.statusCard.hidden = true;
  ui.usageCard.hidden = true;
  ui.errorBox.hidden = true;
  ui.saveWarning.hidden = true;
  ui.saveWarning.textContent = '';
  ui.log.replaceChildren();
  ui.progress.replaceChildren();
}

// ───────────── progress bar ─────────────

function progressPlanning() {
  ui.progress.replaceChildren(el('div', { className: 'seg seg--planning', title: 'Planning the outline' }, el('span', { className: 'seg__fill' })));
}

function ensureSegments(total) {
  if (run.segments.length === total) return;
  run.segments = [];
  const nodes = [];
  for (let i = 1; i <= total; i++) {
    const fill = el('span', { className: 'seg__fill' });
    const seg = el('div', { className: 'seg', dataset: { batch: i } }, fill);
    run.segments.push(seg);
    nodes.push(seg);
  }
  ui.progress.replaceChildren(...nodes);
}

function updateProgress() {
  const rm = run?.working ?? current?.roadmap;
  if (!rm) return;
  const done = finishedWeeks(rm);
  ui.progress.setAttribute('aria-valuemax', String(rm.totalWeeks || 1));
  ui.progress.setAttribute('aria-valuenow', String(done));
  ui.progress.setAttribute('aria-valuetext', `${done} of ${rm.totalWeeks} weeks ready`);
  if (!run) return;
  for (const [b, [from, to]] of run.ranges) {
    const seg = run.segments[b - 1];
    if (!seg) continue;
    const have = rm.weeks.filter((w) => w.week >= from && w.week <= to).length;
    seg.firstChild.style.width = `${Math.round((100 * have) / (to - from + 1))}%`;
  }
}

function segState(batch, state) {
  const seg = ui.progress.querySelectorAll('.seg')[batch - 1];
  if (seg) seg.className = `seg seg--${state}`;
}

// ───────────── persistence ─────────────

/** A save failed since the current run (or "Regenerate week") started: it is logged once, not at every save. */
let saveFailed = false;

function save() {
  if (!current?.roadmap) return;
  const { roadmap, params, model, offline, complete, otherUsage } = current;
  try {
    const text = JSON.stringify({ v: 1, savedAt: new Date().toISOString(), roadmap, params, model, offline, complete, otherUsage });
    localStorage.setItem(STORE_KEY, text);
    lastSaved = text;
    current.unsaved = false; // the saved copy is this one again
  } catch (err) {
    // Storage full or disabled: the roadmap stays on screen and the run goes on, but a reload would lose what the
    // page says it keeps. Said once per run: every week and batch saves.
    current.unsaved = true;
    if (!saveFailed) addLog(`The roadmap could not be saved in this browser: ${err?.name ?? 'error'}`, 'warn');
    saveFailed = true;
  }
  syncSaveWarning();
}

/**
 * The note says whether the roadmap on screen is only on screen: its last save failed. It follows `current` (a
 * stopped run's previous roadmap brought back keeps its flag, a copy read from storage has none) and changes only
 * when that does, so that its live region speaks once, not at every save.
 */
function syncSaveWarning() {
  const unsaved = !!current?.unsaved;
  if (unsaved === !ui.saveWarning.hidden) return;
  ui.saveWarning.hidden = !unsaved;
  ui.saveWarning.textContent = unsaved
    ? 'This roadmap could not be saved in this browser (its storage is full or turned off): a reload or closing the tab would lose it. Export it to keep a copy.'
    : '';
}

const isObject = (x) => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x, lo, hi) => Number.isInteger(x) && x >= lo && x <= hi;
const isText = (x) => typeof x === 'string';
const optional = (x, check) => x === undefined || x === null || check(x);
const arrayOf = (x, check) => Array.isArray(x) && x.every(check);

/** Why a saved copy cannot be shown (another version, or not the shape this page renders), or '' when it can. */
function savedProblem(saved) {
  if (!isObject(saved)) return 'not a saved roadmap';
  if (saved.v !== 1) return `unknown version ${JSON.stringify(saved.v)?.slice(0, 20)}`;
  const rm = saved.roadmap;
  if (!isObject(rm) || !isText(rm.role) || !rm.role.trim() || !isInt(rm.totalWeeks, 1, 52)) return 'no role or length';
  const n = rm.totalWeeks;
  const day = (d) =>
    isObject(d) && isInt(d.day, 1, 7) && isText(d.title) && optional(d.tasks, (t) => arrayOf(t, isText)) &&
    optional(d.resources, (r) => arrayOf(r, isText)) && optional(d.hours, Number.isFinite);
  const week = (w) =>
    isObject(w) && isInt(w.week, 1, n) && isText(w.title) && optional(w.phase, isText) && arrayOf(w.days, day);
  if (!arrayOf(rm.weeks, week)) return 'a week is not readable';
  if (new Set(rm.weeks.map((w) => w.week)).size !== rm.weeks.length) return 'a week is there twice';
  const phase = (p) => isObject(p) && isText(p.name) && isInt(p.startWeek, 1, n) && isInt(p.endWeek, 1, n) && optional(p.goal, isText);
  if (!optional(rm.phases, (ps) => arrayOf(ps, phase))) return 'a phase is not readable';
  const outlineWeek = (o) => isObject(o) && isInt(o.week, 1, n) && isText(o.title);
  if (!optional(rm.outline, (os) => arrayOf(os, outlineWeek))) return 'the outline is not readable';
  if (!optional(rm.warnings, (ws) => arrayOf(ws, isText))) return 'a warning is not readable';
  if (!optional(rm.usage, isObject) || !optional(rm.batches, Array.isArray)) return 'the usage is not readable';
  if (!optional(rm.level, isText) || !optional(rm.hoursPerDay, Number.isFinite)) return 'the level or hours are not readable';
  return '';
}

/** Forgets an unreadable saved copy, and says so in the status card. */
function discardSaved(reason) {
  try {
    localStorage.removeItem(STORE_KEY);
  } catch {
    /* storage disabled */
  }
  lastSaved = null;
  current = null;
  resetView();
  ui.statusCard.hidden = false;
  ui.statusTitle.textContent = 'Saved roadmap discarded';
  ui.statusDetail.textContent = 'The roadmap saved in this browser could not be read, so it was removed. Generate a new one.';
  addLog(`Discarded the saved roadmap: ${reason}`, 'warn');
}

/**
 * Shows the roadmap saved in this browser, if any. Returns whether it did; a copy it cannot show is discarded.
 * `fillIn`: the form shows its role and settings (not when another tab saved it: this one's form may be in use).
 */
function restore(fillIn = true) {
  let saved;
  lastSaved = savedText();
  try {
    saved = JSON.parse(lastSaved || 'null');
  } catch {
    saved = undefined; // not JSON
  }
  if (saved === null) return false;
  const problem = saved === undefined ? 'not JSON' : savedProblem(saved);
  if (problem) {
    discardSaved(problem);
    return false;
  }
  const rm = saved.roadmap;
  const sp = saved.params;
  const params =
    isObject(sp) && isText(sp.role) && isInt(sp.weeks, 1, 52) && isInt(sp.batchWeeks, 1, 52) &&
    optional(sp.level, isText) && optional(sp.hoursPerDay, Number.isFinite) && optional(sp.strategy, isText)
      ? sp
      : { role: rm.role, weeks: rm.totalWeeks, batchWeeks: 3, ...(rm.level ? { level: rm.level } : {}), ...(rm.hoursPerDay ? { hoursPerDay: rm.hoursPerDay } : {}) };
  const model = isText(saved.model) && saved.model ? saved.model : DEFAULT_MODEL;
  const otherUsage = isObject(saved.otherUsage) && Object.values(saved.otherUsage).every(isObject) ? saved.otherUsage : {};
  // Saved while its run was still going, after every week had arrived: it is complete.
  current = { roadmap: rm, params, model, offline: !!saved.offline, complete: !!saved.complete || allArrived(rm), otherUsage };
  if (fillIn) {
    fillForm(params);
    // A model the form no longer offers (gemini-2.5-flash, shut down by Google) leaves the form on its default.
    if ([...ui.model.options].some((o) => o.value === model)) ui.model.value = model;
  }
  renderRoadmap(rm);
  renderUsage();
  syncSaveWarning(); // the copy shown is the saved one
  ui.statusCard.hidden = false;
  ui.progress.replaceChildren();
  updateProgress();
  const when = saved.savedAt ? new Date(saved.savedAt).toLocaleString() : 'earlier';
  if (current.complete) {
    ui.statusTitle.textContent = 'Roadmap restored';
    ui.statusDetail.textContent = `Saved ${when}. Clear removes it from this browser.`;
  } else {
    ui.statusTitle.textContent = 'Unfinished roadmap restored';
    ui.statusDetail.textContent = `${keptText(rm)} were saved ${when}. Continue finishes the rest.`;
  }
  if (fillIn) addLog(`Restored the roadmap saved ${when}`);
  return true;
}

// Tabs of this page share the one saved roadmap: two generating at once saved over each other, and a tab showing an
// older copy went on from it. One tab generates at a time (a Web Lock), and the others show what it saves.

/** Another tab holds the lock: this one shows its roadmap as it is saved, and offers nothing to go on with. */
let elsewhere = false;
/** The saved copy as this tab last wrote or read it: another tab's save differs. */
let lastSaved = null;
const BUSY = 'Another tab of this page is generating. Finish or cancel it there first: both would save over the one roadmap kept in this browser, which this tab shows as it changes.';
const STALE = 'The roadmap saved in this browser was changed in another tab: this tab shows it now. Press again to go on from it.';

function savedText() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

/** Another tab saved (or removed) the roadmap since this one last wrote or read it. */
const changedElsewhere = () => savedText() !== lastSaved;

/** A start refused before anything was sent, shaped as the package's errors are. */
const refusal = (message) => ({ name: 'GeminiRoadmapError', code: 'ELSEWHERE', message });
const staleText = () => (savedText() === null ? 'The roadmap saved in this browser was removed in another tab.' : STALE);

/** Tells the other tabs that this one took the lock: they know before its first save. */
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('gemini-roadmap') : null;

/**
 * Resolves to the function that lets the lock go once this tab holds it, or to null when another tab does. The run
 * starts on screen at once (as before the lock) and waits for this before it sends anything: a tab that knows another
 * generates refuses before that (`elsewhere`), so this refuses only a start in the same instant as another tab's.
 */
function claimRun(kind) {
  if (!navigator.locks) return Promise.resolve(() => {});
  return new Promise((granted) => {
    navigator.locks.request(RUN_LOCK, { ifAvailable: true }, (lock) => {
      if (!lock) return granted(null);
      // What it generates ('new', 'continue' or 'week'), and for a new roadmap the saved copy it replaces (its
      // savedAt): until a save of its own, the other tabs show that copy, which is not the one being generated.
      announced = { busy: kind, over: kind === 'new' ? savedStamp() : null };
      tabs?.postMessage(announced);
      return new Promise((letGo) =>
        granted(() => {
          announced = null;
          letGo();
        }),
      );
    });
  });
}

/** What this tab announced it generates (see claimRun), while it holds the lock: told again to a tab that asks. */
let announced = null;
/** What the tab holding the lock announced, as this tab heard it (or null). */
let otherRun = null;

/** The saved copy's savedAt, which tells one save from the next (null: none). */
function savedStamp() {
  try {
    return JSON.parse(savedText() || 'null')?.savedAt ?? null;
  } catch {
    return null;
  }
}

function onTabMessage(e) {
  // A tab that opened while this one generates asks what it is (it missed the announcement).
  if (e.data === 'ask') {
    if (announced) tabs.postMessage(announced);
    return;
  }
  otherRun = isObject(e.data) ? e.data : null;
  if (elsewhere) sayElsewhere();
  watchOtherTab();
}

/** Shows the saved copy another tab wrote (or its removal), keeping what is typed in this tab's form. */
function adoptSaved(log = true) {
  ui.errorBox.hidden = true; // about this tab's last roadmap, not the one shown now
  clearErrors();
  const shown = restore(false);
  if (!shown) {
    current = null;
    resetView();
  }
  setState(shown ? (current.complete ? 'done' : 'partial') : 'idle');
  if (log) addLog(shown ? 'The saved roadmap was changed in another tab: showing it' : 'The saved roadmap was removed in another tab');
  if (elsewhere) sayElsewhere();
}

function sayElsewhere() {
  if (!current?.roadmap) return;
  // A new roadmap being planned there has saved nothing yet: the copy shown is the one it replaces, finished or not.
  if (otherRun?.busy === 'new' && savedStamp() === otherRun.over) {
    ui.statusTitle.textContent = 'A new roadmap is being planned in another tab';
    ui.statusDetail.textContent = 'The roadmap below is the one saved before it, which the new one replaces. This tab shows the new one as that tab saves it.';
    return;
  }
  ui.statusTitle.textContent = 'Being generated in another tab';
  ui.statusDetail.textContent = `${keptText(current.roadmap)} so far. This tab shows them as that tab saves them.`;
}

/** While another tab holds the lock: say so, offer no Continue, and look again once it lets go. */
let watching = false;
async function watchOtherTab() {
  if (!navigator.locks || watching || run || regen) return;
  watching = true;
  try {
    const held = (await navigator.locks.query()).held.some((l) => l.name === RUN_LOCK);
    if (!held || run || regen) return;
    elsewhere = true;
    tabs?.postMessage('ask'); // what it generates: the answer comes to onTabMessage
    setState(document.body.dataset.state);
    sayElsewhere();
    addLog('Another tab is generating: this tab shows what it saves');
    // Granted once that tab lets go; released at once.
    await navigator.locks.request(RUN_LOCK, { mode: 'shared' }, () => {});
    elsewhere = false;
    otherRun = null;
    // Its last save (whose event may not have come yet): one log line per run of the other tab, said above.
    if (!run && !regen) adoptSaved(false);
    else setState(document.body.dataset.state);
  } finally {
    watching = false;
  }
}

function adoptOtherTabs(e) {
  if ((e.key !== STORE_KEY && e.key !== null) || run || regen) return;
  // Shown already (read when the other tab let go, before its event came).
  if (!changedElsewhere()) return;
  adoptSaved(!elsewhere);
  watchOtherTab();
}

// ───────────── errors ─────────────

function retryIn(ms) {
  const s = Math.ceil(ms / 1000);
  return s >= 90 ? `${Math.ceil(s / 60)} minutes` : plural(s, 'second');
}

/**
 * [title, advice] for an error from the package. The advice points only at buttons that are on screen after it:
 * `next` is 'continue' (Continue is shown: the outline is complete and weeks are left), 'week' (a failed
 * "Regenerate week") or 'generate' (nothing to continue: generate again).
 */
/** The host of a backend that is neither the demo model nor Google's API (a proxy, a local mock), else null. */
function otherServer(b) {
  if (b.offline) return null;
  try {
    const u = new URL(b.baseUrl);
    return u.origin === new URL(GOOGLE_URL).origin ? null : u.host;
  } catch {
    return null;
  }
}

function explain(err, offline, next = 'generate', model = current?.model ?? ui.model.value, server = null) {
  const status = err.status ? ` (HTTP ${err.status})` : '';
  const who = offline ? 'The demo model' : 'Gemini';
  // Who said so: a proxy or a local server answers for Google (found by an exploratory test).
  const source = offline ? 'The demo model' : server ? `The server at ${server}` : 'Google';
  const then = { continue: 'press Continue', week: 'try the week again with “Regenerate week”', generate: 'generate again' }[next];
  const kept = { continue: ' — finished weeks are kept.', week: ' — the rest of the roadmap is unchanged.', generate: '.' }[next];
  const retry = { continue: 'Press Continue to try again. Finished weeks are kept.', week: 'Try the week again with “Regenerate week”.', generate: 'Generate again to start over.' }[next];
  switch (err.code) {
    case 'AUTH':
      if (/reported as leaked/i.test(err.message)) {
        return ['This API key was reported as leaked', `${source} reports that this key was published somewhere public, and refuses it for good. Create a new key in Google AI Studio (aistudio.google.com/apikey) and keep it out of code, repositories and shared pages.`];
      }
      if (err.reason === 'API_KEY_HTTP_REFERRER_BLOCKED') {
        return ['This API key may not be used from this site', `The key is restricted to other websites. In Google Cloud Console (APIs & Services, Credentials), add ${location.origin}/* to the key’s website restrictions, or use a key without them here.`];
      }
      if (err.reason === 'ACCESS_TOKEN_TYPE_UNSUPPORTED') {
        return ['Gemini does not accept this kind of key', `${source} refused the key’s type for its project (ACCESS_TOKEN_TYPE_UNSUPPORTED): copying it again will not help. Create a new key in Google AI Studio (aistudio.google.com/apikey) for a project with the Gemini API enabled, or ask the project’s administrator which keys it allows.`];
      }
      if (err.reason === 'API_KEY_SERVICE_BLOCKED') {
        return ['This API key may not call the Gemini API', 'The key’s API restrictions leave out the Generative Language API. In Google Cloud Console (APIs & Services, Credentials), add “Generative Language API” to the key’s allowed APIs, or use a key from Google AI Studio.'];
      }
      return offline
        ? ['The demo model refused the request', 'Reload the page and try again.']
        : server
          ? [`The server at ${server} did not accept the API key`, 'Check the key: copy it again (a key for Google’s Gemini API comes from Google AI Studio, aistudio.google.com/apikey) and make sure it is complete.']
          : ['Google did not accept the API key', 'Check the key: copy it again from Google AI Studio (aistudio.google.com/apikey), make sure it is complete and that the Generative Language API is enabled for its project.'];
    case 'RATE_LIMITED': {
      const daily = (err.quotaIds || []).some((q) => /PerDay/i.test(q));
      // A quota of 0: the model is outside the key's tier (Gemini still names a wait, and per-day quotas too).
      if (err.zeroQuota) {
        return ['No quota for this model', `${source} reports a quota of 0 for ${model} on this key (its tier does not include it): waiting will not help. Choose another model and ${then}${kept}`];
      }
      // Before the named wait: Gemini names one for a daily quota too (to midnight Pacific, or a useless few seconds).
      if (daily) {
        const used = offline
          ? `The demo model reports the daily quota for ${model} used up`
          : `This key has used its daily quota for ${model}`;
        return ['Daily quota used up', `${used} (${err.quotaIds.join(', ')}). It resets at midnight Pacific time. Choose another model and ${then}, or come back tomorrow.${next === 'continue' ? ' Finished weeks are kept.' : ''}`];
      }
      if (err.retryDelayMs) return ['Rate limit reached', `${source} asks to wait ${retryIn(err.retryDelayMs)}. Then ${then}${kept}`];
      return ['Rate limit reached', `Too many requests${err.quotaIds?.length ? ` (${err.quotaIds.join(', ')})` : ''}. Wait a minute, then ${then}${kept}`];
    }
    case 'SERVER':
      return offline
        ? [`The demo model is having trouble${status}`, `This is on the local demo model’s side. Wait a moment and ${then}${kept}`]
        : server
          ? [`The server at ${server} is having trouble${status}`, `This is on that server’s side (or on Gemini’s, behind it). Wait a moment and ${then}${kept}`]
          : [`Google is having trouble${status}`, `This is on Google’s side and usually passes quickly. Wait a moment and ${then}${kept}`];
    case 'NETWORK':
      return ['Could not reach the server', offline ? `The local demo model did not answer. Check that “npm run demo” is still running, then ${then}.` : `Check your internet connection (and any VPN, proxy or ad blocker that may block the address named below), then ${then}.`];
    case 'TIMEOUT':
      return [`${who} took too long to answer`, next === 'continue' ? 'Press Continue to try again; a smaller “Batch size” (weeks per request) makes each answer shorter.' : retry];
    case 'BLOCKED': {
      const title = `${who} blocked the request${err.reason ? ` (${err.reason})` : ''}`;
      // RECITATION: the answer quoted existing text too closely; another answer usually does not.
      if (err.reason === 'RECITATION') return [title, `The answer followed published text too closely, which ${offline ? 'the demo model' : 'Gemini'} does not return. Another answer usually differs: ${then}${kept}`];
      const rephrase = 'rephrase the role in plain, neutral words and generate a new roadmap';
      return [title, next === 'generate' ? 'Rephrase the role in plain, neutral words and try again.' : `${next === 'continue' ? 'Press Continue to ask again — finished weeks are kept' : 'Try the week again with “Regenerate week”'}; if it is blocked again, ${rephrase}.`];
    }
    case 'NOT_FOUND':
      return ['Model not available', `“${model}” is not available for this key. Choose another model and ${then}.`];
    case 'BAD_REQUEST':
      if (err.googleStatus === 'FAILED_PRECONDITION' && /location/i.test(err.message)) {
        return ['Gemini is not available from your location', `${source} reports that the Gemini API is not served where this request came from (or the VPN or proxy it went through). See ai.google.dev/gemini-api/docs/available-regions.`];
      }
      return [`${who} rejected the request${status}`, next === 'week' ? 'Try another model, then try the week again.' : 'Try another model, or fewer weeks per request.'];
    case 'MALFORMED':
    case 'TRUNCATED':
      return [`${who}’s answer could not be read`, next === 'continue' ? 'Lower “Batch size” (weeks per request) and press Continue — finished weeks are kept.' : retry];
    default:
      return ['Something went wrong', retry];
  }
}

function showError(err, offline, next, model, server = null) {
  const [title, advice] = explain(err, offline, next, model, server);
  ui.errorCode.textContent = err.code || err.name || 'ERROR';
  ui.errorTitle.textContent = title;
  ui.errorAdvice.textContent = advice;
  ui.errorDetail.textContent = err.message || '';
  ui.errorBox.hidden = false;
}

// ───────────── the run ─────────────

async function startRun(mode) {
  if (run || regen || !wasmReady) return;
  clearErrors();
  if (elsewhere) {
    // Known from the other tab's announcement (or its saves). Nothing is set up, so nothing on screen changes: the
    // pressed button keeps focus.
    showFormError(BUSY);
    ui.formError.scrollIntoView({ block: 'nearest' });
    addLog('Nothing started: another tab is generating', 'warn');
    return;
  }
  let params;
  let b;
  let resumeFrom = null;
  if (mode === 'continue') {
    if (!current?.roadmap) return;
    const errors = {};
    // Batch size and "Batches in parallel" may change between runs (the error advice may ask for a smaller batch);
    // role, weeks, level and hours belong to the roadmap being continued.
    const batch = readBatch(errors);
    b = readBackend(errors);
    checkSameBackend(b, errors);
    if (Object.keys(errors).length) return showFieldErrors(errors);
    params = { ...current.params, batchWeeks: batch };
    if (ui.parallel.checked) params.strategy = 'parallel';
    else delete params.strategy;
    resumeFrom = current.roadmap;
    // The form shows what the run goes on with: a role, length, level or hours typed in meanwhile do not apply.
    fillForm(params);
  } else {
    const form = readForm();
    if (!form) return;
    ({ params, backend: b } = form);
  }

  const controller = new AbortController();
  const working = resumeFrom
    ? structuredClone(resumeFrom)
    : {
        role: params.role,
        totalWeeks: params.weeks,
        ...(params.level ? { level: params.level } : {}),
        ...(params.hoursPerDay ? { hoursPerDay: params.hoursPerDay } : {}),
        phases: [],
        outline: [],
        weeks: [],
        usage: emptyUsage(),
        batches: [],
        warnings: [],
      };
  const previous = current; // put back if the package rejects the options before sending anything
  if (!resumeFrom) {
    resetView();
    current = null;
  }
  saveFailed = false;
  run = { id: ++runSeq, controller, params, backend: b, working, previous, resumed: !!resumeFrom, segments: [], ranges: new Map(), inFlight: new Set(), retryTimers: new Map(), batchesDone: 0, totalBatches: 0, startedAt: performance.now(), kept: finishedWeeks(working) };
  current = { roadmap: working, params, model: b.model, offline: b.offline, complete: false, otherUsage: resumeFrom ? carryUsage(previous, b.model) : {} };
  const me = run;

  ui.statusCard.hidden = false;
  ui.errorBox.hidden = true;
  ui.emptyState.hidden = true;
  setState('running');
  // Whatever started the run (a button, or Enter in a field), show its progress: on a phone the status card is
  // below the form, and Generate is hidden now.
  ui.statusCard.scrollIntoView({ block: 'nearest' });
  ui.cancel.focus({ preventScroll: true });
  if (resumeFrom) {
    addLog(`Continuing: ${plural(run.kept, 'week')} kept, ${plural(weeksLeft(working), 'week')} to go`);
    ui.statusTitle.textContent = 'Continuing…';
    ui.statusDetail.textContent = `${plural(run.kept, 'finished week')} kept; they are not requested again.`;
    renderRoadmap(working);
    ui.progress.replaceChildren();
  } else {
    addLog(`Planning a ${params.weeks}-week roadmap for ${params.role} on ${b.offline ? 'the offline demo model' : b.model}`);
    ui.statusTitle.textContent = 'Planning the outline…';
    ui.statusDetail.textContent = b.offline ? 'Offline demo model' : `Google Gemini · ${b.model}`;
    progressPlanning();
  }
  updateProgress();
  renderUsage();

  const options = {
    apiKey: b.apiKey,
    role: params.role,
    weeks: params.weeks,
    model: b.model,
    baseUrl: b.baseUrl,
    batchWeeks: params.batchWeeks,
    signal: controller.signal,
    onProgress: (e) => {
      if (run !== me) return;
      try {
        onProgress(e);
      } catch (uiError) {
        // A rendering bug must not break the run; the final roadmap is rendered again at the end.
        console.warn('progress rendering failed', uiError?.name);
      }
    },
  };
  if (params.strategy) options.strategy = params.strategy;
  if (params.level) options.level = params.level;
  if (params.hoursPerDay) options.hoursPerDay = params.hoursPerDay;
  if (resumeFrom) options.resumeFrom = resumeFrom;

  const letGo = await claimRun(resumeFrom ? 'continue' : 'new');
  let stale = false;
  try {
    if (!letGo) throw refusal(BUSY);
    // A save of another tab's this one missed (its event came while this tab was busy, or to a page in the
    // back/forward cache): going on from the copy on screen would save over the newer one.
    stale = !!resumeFrom && changedElsewhere();
    if (stale) throw refusal(staleText());
    const roadmap = await generateRoadmap(options);
    if (run !== me) return;
    finishRun(roadmap);
  } catch (err) {
    if (run !== me) return;
    if (err?.name === 'AbortError') cancelledRun(err);
    else failRun(err);
    if (stale) {
      adoptSaved(); // clears the message failRun showed: shown again over the copy now on screen
      showFormError(err.message);
    }
  } finally {
    letGo?.();
  }
}

/** "Generating batch 3 of 5…", or with several batches in flight at once (parallel), "Generating batches (1 of 5 done)…". */
function showGenerating(batch) {
  ui.statusTitle.textContent =
    run.inFlight.size > 1 ? `Generating batches (${run.batchesDone} of ${run.totalBatches} done)…` : `Generating batch ${batch} of ${run.totalBatches}…`;
}

function onProgress(e) {
  const w = run.working;
  // A later event of a batch that was waiting to retry (it started again, or ended) says more than its timer would.
  if (e.type !== 'retry' && run.retryTimers.has(e.batch)) {
    clearTimeout(run.retryTimers.get(e.batch));
    run.retryTimers.delete(e.batch);
  }
  switch (e.type) {
    case 'outline':
      w.phases = e.phases;
      w.outline = e.weeks;
      renderHeader(w);
      renderPhases(w);
      addLog(`Outline ready: ${plural(e.phases.length, 'phase')}, ${plural(e.weeks.length, 'week')}`);
      save();
      break;
    case 'batch-start':
      run.totalBatches = e.totalBatches;
      ensureSegments(e.totalBatches);
      run.ranges.set(e.batch, [e.startWeek, e.endWeek]);
      segState(e.batch, 'active');
      run.segments[e.batch - 1]?.setAttribute('title', `Batch ${e.batch}: ${range(e.startWeek, e.endWeek)}`);
      run.inFlight.add(e.batch);
      showGenerating(e.batch);
      ui.statusDetail.textContent = `${range(e.startWeek, e.endWeek).replace(/^w/, 'W')} · ${keptText(w)} ready`;
      addLog(`Generating batch: ${range(e.startWeek, e.endWeek)}`);
      updateProgress();
      break;
    case 'week': {
      const i = w.weeks.findIndex((x) => x.week === e.week.week);
      if (i >= 0) w.weeks[i] = e.week;
      else w.weeks.push(e.week);
      w.weeks.sort((a, b) => a.week - b.week);
      upsertCard(w, e.week);
      renderHeader(w);
      updateProgress();
      const [, to] = [...run.ranges.values()].at(-1) ?? [];
      ui.statusDetail.textContent = `Week ${e.week.week} ${e.week.fallback ? 'is a placeholder' : 'ready'}${to ? ` · generating up to week ${to}` : ''} · ${keptText(w)} ready`;
      save();
      break;
    }
    case 'batch-done':
      segState(e.batch, 'done');
      run.inFlight.delete(e.batch);
      run.batchesDone++;
      if (run.inFlight.size) showGenerating(Math.max(...run.inFlight));
      w.usage = e.usage;
      renderUsage();
      updateProgress();
      addLog(`Batch ${e.batch} response length: ${e.responseChars} chars`);
      save();
      break;
    case 'retry': {
      // Batch 0 is the outline, and the model lookup before it: all a Continue with its outline complete sends.
      const what = e.batch ? `batch ${e.batch}` : run.resumed && outlineComplete(run.working) ? 'the model lookup' : 'the outline';
      const when = e.delayMs ? `in ${+(e.delayMs / 1000).toFixed(1)}s` : 'now';
      if (e.batch) segState(e.batch, 'retry');
      addLog(`Retrying ${what} ${when} (attempt ${e.attempt}): ${e.reason}`, 'warn');
      const waiting = `Retrying ${what} ${when}…`;
      ui.statusDetail.textContent = waiting;
      // The package sends no event when the wait is over and the request goes out again, only when it answers: after
      // `delayMs` the status says it is under way (not "in 0.5s" for as long as the answer takes), unless something
      // else was said meanwhile. One timer per batch (parallel batches retry apart), cleared by that batch's next
      // event and when the run ends.
      const me = run;
      clearTimeout(me.retryTimers.get(e.batch));
      me.retryTimers.set(e.batch, setTimeout(() => {
        me.retryTimers.delete(e.batch);
        if (run !== me) return;
        if (e.batch && run.segments[e.batch - 1]?.classList.contains('seg--retry')) segState(e.batch, 'active');
        const again = e.batch ? `Generating batch ${e.batch}` : what === 'the outline' ? 'Planning the outline' : 'Looking up the model';
        if (ui.statusDetail.textContent === waiting) ui.statusDetail.textContent = `${again} (attempt ${e.attempt})…`;
      }, e.delayMs || 0));
      break;
    }
    case 'warning': {
      w.warnings.push(e.message);
      addLog(`Warning: ${e.message}`, 'warn');
      const m = /^Week (\d+):/.exec(e.message);
      const wk = m && w.weeks.find((x) => x.week === Number(m[1]));
      if (wk) upsertCard(w, wk);
      break;
    }
    case 'done': {
      w.usage = e.usage;
      renderUsage();
      const what = run.totalBatches === 1 ? 'Completed 1 batch' : `Completed all ${batches(run.totalBatches)}`;
      if (e.fallbackWeeks) addLog(`${what}; ${plural(e.fallbackWeeks, 'placeholder week')} to regenerate`, 'warn');
      else addLog(`${what} successfully`, 'ok');
      break;
    }
    default:
      break;
  }
}

function endRun() {
  const focusWasOnCancel = document.activeElement === ui.cancel;
  for (const t of run.retryTimers.values()) clearTimeout(t); // finished, failed or cancelled: nothing is retried now
  run = null;
  return focusWasOnCancel;
}

/** Whether focus is inside `node` or nowhere (<body>): what replaces `node` may take it without pulling the reader away. */
function focusInOrNowhere(node) {
  const a = document.activeElement;
  return !a || a === document.body || node.contains(a);
}

/** Cancel disappears when a run ends: move focus somewhere useful instead of <body>. */
function settleFocus(wasOnCancel) {
  if (!wasOnCancel) return;
  if (!ui.continue.hidden) ui.continue.focus();
  else ui.statusTitle.focus();
}

function finishRun(roadmap) {
  const secs = ((performance.now() - run.startedAt) / 1000).toFixed(1);
  const ranges = run.ranges;
  const focus = endRun();
  current = { ...current, roadmap, complete: true, secs };
  renderRoadmap(roadmap);
  renderUsage();
  for (const [b, [from, to]] of ranges) {
    const report = (roadmap.batches || []).find((x) => x.startWeek === from);
    segState(b, report?.status === 'fallback' ? 'fallback' : 'done');
    Object.assign(ui.progress.querySelectorAll('.seg')[b - 1]?.dataset ?? {}, { from, to });
  }
  showReady(roadmap, secs);
  updateProgress();
  save();
  setState('done');
  settleFocus(focus);
}

/**
 * The run `me` replaced a roadmap on screen with a new one, and ended before its outline: it has nothing to keep
 * and saved nothing, so the roadmap it replaced (still the saved one) should come back.
 */
const replacedInVain = (me, kept) => !me.resumed && !!me.previous?.roadmap && !outlineComplete(kept) && !kept.weeks.length;

/** Puts the roadmap that `me` replaced back on screen; logs what the abandoned attempt used. */
function bringBackPrevious(me, kept) {
  const used = kept.usage?.requests;
  if (used) addLog(`The stopped run used ${plural(used, 'request')} (${fmt.format(kept.usage.totalTokens || 0)} tokens)`, 'warn');
  current = me.previous;
  renderRoadmap(current.roadmap);
  renderUsage();
  syncSaveWarning(); // a roadmap never saved is still only on screen
  // The bar describes the roadmap on screen, as after a reload: not the abandoned run's planning or length.
  ui.progress.replaceChildren();
  updateProgress();
}

/** Status of a finished roadmap: the title and detail name its placeholder weeks, if any. */
function showReady(rm, secs) {
  const fallbacks = rm.weeks.filter((w) => w.fallback).length;
  ui.statusTitle.textContent = fallbacks ? 'Roadmap ready — with placeholders' : 'Roadmap ready';
  ui.statusDetail.textContent = `${plural(rm.totalWeeks, 'week')} · ${plural(rm.totalWeeks * 7, 'day')} · ${secs} s${fallbacks ? ` · ${plural(fallbacks, 'week')} to regenerate` : ''}`;
}

/** Colours the finished batches of a stopped run that hold a placeholder week as a finished run's are. */
function markPlaceholders(rm, ranges) {
  for (const [b, [from, to]] of ranges) {
    const seg = ui.progress.querySelectorAll('.seg')[b - 1];
    if (seg?.classList.contains('seg--done') && holdsPlaceholder(rm, from, to)) {
      seg.className = 'seg seg--fallback';
    }
  }
}

/**
 * A run stopped after every week had arrived (`allArrived`): the roadmap is complete, shown and saved as such, and
 * each of its batches' segments as a finished run's (none left running or failed under "Roadmap ready").
 */
function keepWhole(kept, how, focus, ranges) {
  for (const [b, [from, to]] of ranges) segState(b, holdsPlaceholder(kept, from, to) ? 'fallback' : 'done');
  current = { ...current, roadmap: kept, complete: true };
  renderRoadmap(kept);
  renderUsage();
  ui.statusTitle.textContent = 'Roadmap ready';
  ui.statusDetail.textContent = `Every week had arrived when the run ${how}: nothing is left to generate.`;
  updateProgress();
  save();
  setState('done');
  settleFocus(focus);
}

/** After "Regenerate week": the finished run's status and its batches' segments follow the placeholders left. */
function refreshReady(rm) {
  if (document.body.dataset.state !== 'done' || current?.secs == null) return; // a restored or stopped roadmap says nothing about placeholders
  showReady(rm, current.secs);
  for (const seg of ui.progress.querySelectorAll('.seg[data-from]')) {
    const from = Number(seg.dataset.from);
    const to = Number(seg.dataset.to);
    seg.className = `seg seg--${holdsPlaceholder(rm, from, to) ? 'fallback' : 'done'}`;
  }
}

function cancelledRun(err) {
  const me = run;
  const kept = err?.partial && Array.isArray(err.partial.weeks) && err.partial.weeks.length >= run.working.weeks.length ? err.partial : run.working;
  const focus = endRun();
  if (replacedInVain(me, kept)) {
    addLog('Cancelled before the outline was ready', 'warn');
    bringBackPrevious(me, kept);
    ui.statusTitle.textContent = 'Cancelled';
    ui.statusDetail.textContent = 'Stopped before the outline was ready. The roadmap you had before is below, unchanged.';
    setState('cancelled');
    settleFocus(focus);
    return;
  }
  for (const seg of ui.progress.children) if (!seg.classList.contains('seg--done')) seg.className = 'seg seg--stopped';
  markPlaceholders(kept, me.ranges);
  if (allArrived(kept)) {
    addLog(`Cancelled after every week had arrived: kept all ${plural(kept.totalWeeks, 'week')}`, 'warn');
    keepWhole(kept, 'was cancelled', focus, me.ranges);
    return;
  }
  current = { ...current, roadmap: kept, complete: false };
  renderRoadmap(kept);
  renderUsage();
  const n = kept.weeks.length;
  addLog(`Cancelled: kept ${keptText(kept)}`, 'warn');
  ui.statusTitle.textContent = 'Cancelled';
  if (outlineComplete(kept)) {
    ui.statusDetail.textContent = `Kept ${keptText(kept)}. Continue picks up where it stopped without asking for finished weeks again.`;
    save();
  } else {
    ui.statusDetail.textContent = 'Stopped before the outline was ready; nothing to keep.';
    if (!n) {
      current = null;
      ui.roadmap.hidden = true;
      ui.usageCard.hidden = true;
    }
  }
  setState('cancelled');
  settleFocus(focus);
}

function failRun(err) {
  const me = run;
  const focus = endRun();
  if (err?.name !== 'GeminiRoadmapError') err = { code: 'UNEXPECTED', message: String(err?.message || err) };
  if (err.code === 'INVALID_INPUT' || err.code === 'ELSEWHERE') {
    // Nothing was sent. Show the message next to the field it names.
    const id = FIELD_INPUTS[err.field];
    const message = (err.message || '').replace(/^Invalid option `[^`]+`:\s*/, '') || 'This value is not valid.';
    current = me.previous;
    resetView();
    if (current) {
      renderRoadmap(current.roadmap);
      renderUsage();
      syncSaveWarning();
      ui.statusCard.hidden = false;
      ui.statusTitle.textContent = 'Nothing was sent';
      ui.statusDetail.textContent = err.code === 'ELSEWHERE' ? 'The roadmap below is unchanged.' : 'Fix the highlighted field and try again. The roadmap below is unchanged.';
      updateProgress();
    }
    if (id) showFieldErrors({ [id]: message.charAt(0).toUpperCase() + message.slice(1) + '.' });
    else showFormError(`${err.field ? `${err.field}: ` : ''}${message}`);
    if (err.code === 'ELSEWHERE') addLog(`Nothing started: ${err.message}`, 'warn');
    setState(!current ? 'idle' : current.complete ? 'done' : 'partial');
    if (!id) ui.formError.scrollIntoView({ block: 'nearest' });
    return;
  }
  const kept = err.partial && Array.isArray(err.partial.weeks) ? err.partial : me.working;
  const early = replacedInVain(me, kept);
  addLog(`Failed: ${err.code} — ${err.message}`, 'error');
  if (allArrived(kept)) {
    keepWhole(kept, `stopped (${err.code})`, focus, me.ranges);
    return;
  }
  if (early) bringBackPrevious(me, kept);
  else if (!kept.weeks.length && !outlineComplete(kept)) {
    // Nothing to keep, as after a cancel this early: no empty roadmap is left to be "the roadmap you had before".
    current = null;
    ui.roadmap.hidden = true;
    ui.usageCard.hidden = true;
  } else {
    current = { ...current, roadmap: kept, complete: false };
    renderRoadmap(kept);
    renderUsage();
  }
  markPlaceholders(kept, me.ranges);
  // The other batches of a parallel run that had not ended stopped with it: none is left running or waiting.
  for (const seg of ui.progress.children) if (/seg--(active|retry|planning)\b/.test(seg.className)) seg.className = 'seg seg--stopped';
  if (err.batch) segState(err.batch, 'failed');
  // The advice names Continue only when setState('failed') below shows it for this run's roadmap.
  showError(err, me.backend.offline, !early && outlineComplete(kept) && weeksLeft(kept) > 0 ? 'continue' : 'generate', me.backend.model, otherServer(me.backend));
  ui.statusTitle.textContent = 'Generation stopped';
  ui.statusDetail.textContent = kept.weeks.length
    ? `${keptText(kept)} are ready and kept.`
    : early
      ? 'No weeks were generated. The roadmap you had before is below, unchanged.'
      : 'No weeks were generated.';
  if (!early) updateProgress();
  if (outlineComplete(kept)) save();
  setState('failed');
  settleFocus(focus);
}

/** `current` with `roadmap` in it, whose usage beyond the current one's was spent on `model` (priced as that model). */
function withUsageOf(roadmap, model) {
  const otherUsage = model === current.model ? current.otherUsage : addToOther(current, model, subUsage(roadmap.usage, current.roadmap.usage));
  return { ...current, roadmap, otherUsage };
}

async function regenerate(weekNo, button) {
  if (run || regen || !whole(current?.roadmap)) return;
  clearErrors();
  if (elsewhere) {
    button.closest('.week-card').querySelector('.week-card__msg').textContent = BUSY;
    addLog('Nothing started: another tab is generating', 'warn');
    return;
  }
  const errors = {};
  const b = readBackend(errors);
  checkSameBackend(b, errors);
  if (Object.keys(errors).length) return showFieldErrors(errors);
  const card = button.closest('.week-card');
  const msg = card.querySelector('.week-card__msg');
  saveFailed = false;
  const me = (regen = { controller: new AbortController(), button, startedAt: performance.now() });
  setState(document.body.dataset.state);
  card.setAttribute('aria-busy', 'true');
  button.textContent = 'Cancel regeneration';
  msg.textContent = '';
  addLog(`Regenerating week ${weekNo}`);
  const letGo = await claimRun('week');
  let stale = false;
  try {
    if (!letGo) throw refusal(BUSY);
    stale = changedElsewhere(); // see startRun
    if (stale) throw refusal(staleText());
    const options = { apiKey: b.apiKey, model: b.model, baseUrl: b.baseUrl, signal: me.controller.signal };
    const roadmap = await regenerateWeek(current.roadmap, weekNo, options);
    if (regen !== me) return; // cleared meanwhile: that roadmap is gone, do not bring it back or save it
    regen = null;
    current = withUsageOf(roadmap, b.model);
    const w = roadmap.weeks.find((x) => x.week === weekNo);
    // A new card replaces this one; an unchanged week keeps it, so it must leave its busy state here.
    card.removeAttribute('aria-busy');
    button.textContent = 'Regenerate week';
    // Asked before the card is replaced: focus on a removed card falls to <body>.
    const focusHere = focusInOrNowhere(card);
    const fresh = w ? upsertCard(roadmap, w) : null;
    const same = fresh === card;
    if (same) msg.textContent = 'The model returned this week unchanged.';
    renderHeader(roadmap);
    renderUsage();
    refreshReady(roadmap);
    // A stopped or restored roadmap whose last placeholder this was is whole now: ready, nothing left to continue.
    const finished = document.body.dataset.state !== 'done' && allArrived(roadmap);
    if (finished) {
      current = { ...current, complete: true };
      ui.statusTitle.textContent = 'Roadmap ready';
      ui.statusDetail.textContent = 'Every week is written: nothing is left to generate.';
      for (const seg of ui.progress.querySelectorAll('.seg')) seg.className = 'seg seg--done';
      ui.errorBox.hidden = true; // the stopped run's advice (Continue) no longer applies
    }
    updateProgress();
    save();
    addLog(`Regenerated week ${weekNo}${w?.fallback ? ' (still a placeholder)' : same ? ' (unchanged)' : ''}`, w?.fallback ? 'warn' : 'ok');
    setState(finished ? 'done' : document.body.dataset.state);
    // Only from this card (or from nowhere): the reader who went on to another field meanwhile keeps typing there.
    if (focusHere) fresh?.querySelector('.week-card__title')?.focus();
  } catch (err) {
    if (regen !== me) return;
    regen = null;
    card.removeAttribute('aria-busy');
    button.textContent = 'Regenerate week';
    // The roadmap is unchanged, but what the failed or cancelled requests cost is in `partial`: it counts too.
    if (err?.partial?.usage) {
      current = withUsageOf({ ...current.roadmap, usage: err.partial.usage }, b.model);
      renderUsage();
      save();
    }
    if (err?.name === 'AbortError') {
      // Cancelled with its button: the week and the roadmap stay as they were.
      addLog(`Regenerating week ${weekNo} cancelled; the week is unchanged`, 'warn');
      setState(document.body.dataset.state);
      return;
    }
    if (err?.code === 'ELSEWHERE') {
      // On the card, where the button was pressed: on a phone the form is far above it.
      if (stale) adoptSaved();
      const slot = stale ? ui.weeksList.querySelector(`:scope > [data-week="${weekNo}"] .week-card__msg`) : msg;
      if (slot) slot.textContent = err.message;
      else showFormError(err.message); // the week is not in the copy shown now
      addLog(`Nothing started: ${err.message}`, 'warn');
      setState(document.body.dataset.state);
      return;
    }
    // The advice names the model this request used (the form's), which may not be the roadmap's.
    const [title, advice] = err?.code ? explain(err, b.offline, 'week', b.model, otherServer(b)) : ['Something went wrong', 'Try the week again.'];
    msg.textContent = `${err?.code ?? 'ERROR'}: ${title}. ${advice}`;
    addLog(`Regenerating week ${weekNo} failed: ${err?.code ?? ''} ${err?.message ?? ''}`, 'error');
    setState(document.body.dataset.state);
  } finally {
    letGo?.();
  }
}

// ───────────── stop buttons and the key press that started ─────────────

/** A second press within this time of a start is a double tap (500 ms: the usual double-click time). */
const DOUBLE_PRESS_MS = 500;
/** The key (Enter or Space) of an ignored press on a stop button, until it is released. */
let ignoredKey = '';

/**
 * A key press that starts a run leaves focus on Cancel (startRun moves it there), and one that starts "Regenerate
 * week" on that button, now "Cancel regeneration". Enter clicks a button on keydown and again on each auto-repeat,
 * so a held Enter, or a double tap, would cancel at once what its first press started. Ignored (preventDefault, so
 * the button is not clicked), for `startedAt` the start of what the button stops:
 * - an auto-repeat (`repeat`): the press that started, still held, at any time (no clock involved);
 * - a new press within DOUBLE_PRESS_MS of the start: the second half of a double tap (a mouse double click is told
 *   by its click count, `detail`, which a keyboard click does not have).
 * A press later than that cancels, by Enter or Space. Space clicks on keyup (some browsers even after a prevented
 * keydown), so the keyup of an ignored press is ignored too.
 */
function ignoreEchoPress(e, startedAt) {
  if (e.key !== 'Enter' && e.key !== ' ') return;
  if (e.type === 'keydown' && !e.repeat) ignoredKey = performance.now() - startedAt < DOUBLE_PRESS_MS ? e.key : '';
  if (e.repeat || ignoredKey === e.key) e.preventDefault();
  if (e.type === 'keyup' && ignoredKey === e.key) ignoredKey = '';
}

// ───────────── wiring ─────────────

function wire() {
  // Enter in a field while Continue is offered continues (the primary action then): it never discards kept weeks.
  // With another role or length typed in, the user means a new roadmap: Enter then asks to confirm the discard.
  const sameRoadmap = () => {
    const rm = current.roadmap;
    // Text a number field cannot read ("2e") reads as "", like a field left empty: it is not the kept roadmap's.
    if (ui.weeks.validity.badInput || ui.hours.validity.badInput) return false;
    // Level and hours too: Continue keeps the roadmap's own, so other ones typed in mean a new roadmap as well.
    const hours = ui.hours.value.trim() === '' ? undefined : Number(ui.hours.value);
    return oneLine(ui.role.value).toLowerCase() === oneLine(rm.role).toLowerCase() && Number(ui.weeks.value) === rm.totalWeeks
      && ui.level.value === (rm.level ?? '') && hours === (rm.hoursPerDay || undefined);
  };
  // The press that armed the discard, not its confirmation: a double click's second click, a held key, or a second
  // key press within DOUBLE_PRESS_MS (Enter in a field or on the button; Space on the button).
  for (const type of ['keydown', 'keyup']) {
    ui.roadmapForm.addEventListener(type, (e) => {
      if (discardArmed && (e.key === 'Enter' || e.target === ui.generate)) ignoreEchoPress(e, discardArmedAt);
    });
  }
  ui.generate.addEventListener('click', (e) => {
    if (discardArmed && e.detail > 1) e.preventDefault();
  });
  ui.roadmapForm.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing || e.defaultPrevented || e.target.tagName !== 'INPUT') return;
    if (!resumable() || run || regen || !sameRoadmap()) return;
    e.preventDefault(); // no implicit submission (that would be "Generate new roadmap")
    startRun('continue');
  });
  // An edit after the first press asks again: the confirmation was for what the form said then.
  ui.roadmapForm.addEventListener('input', () => {
    if (discardArmed) setState(document.body.dataset.state);
  });
  ui.roadmapForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (resumable() && !discardArmed) armDiscard();
    else startRun('new');
  });
  for (const type of ['keydown', 'keyup']) {
    ui.cancel.addEventListener(type, (e) => run && ignoreEchoPress(e, run.startedAt));
    ui.weeksList.addEventListener(type, (e) => {
      if (regen && e.target === regen.button) ignoreEchoPress(e, regen.startedAt);
    });
  }
  ui.cancel.addEventListener('click', (e) => {
    // Cancel appears where the pressed Generate or Continue was (at some widths), so the second click of the double
    // click that started the run lands on it: the browser counts it as that click's second (detail 2+), with the
    // system's own double-click time and distance, where a clock of ours would guess them. A keyboard click has
    // detail 0 (its double press is told by ignoreEchoPress), a later single click detail 1: both cancel.
    if (!run || e.detail > 1) return;
    ui.statusTitle.textContent = 'Cancelling…';
    run.controller.abort();
  });
  ui.continue.addEventListener('click', () => startRun('continue'));
  window.addEventListener('storage', adoptOtherTabs);
  tabs?.addEventListener('message', onTabMessage);

  // The key: in memory (the input) only, unless the user opts in to this tab's sessionStorage.
  const syncKey = () => {
    try {
      if (ui.rememberKey.checked && ui.apiKey.value.trim()) sessionStorage.setItem(KEY_SLOT, ui.apiKey.value.trim());
      else sessionStorage.removeItem(KEY_SLOT);
    } catch {
      /* storage disabled */
    }
  };
  ui.apiKey.addEventListener('input', () => {
    syncKey();
    renderBackend();
  });
  ui.rememberKey.addEventListener('change', syncKey);
  ui.model.addEventListener('change', renderBackend);
  ui.baseUrl.addEventListener('input', renderBackend);

  // Clear a field's error as soon as it is edited.
  ui.roadmapForm.addEventListener('input', (e) => {
    const id = e.target.id;
    if (e.target.getAttribute('aria-invalid') === 'true') {
      e.target.removeAttribute('aria-invalid');
      const slot = $(`${id}-error`);
      if (slot) slot.hidden = true;
    }
  });

  ui.weeksList.addEventListener('click', (e) => {
    const b = e.target.closest('[data-action="regenerate"]');
    if (!b || b.disabled) return;
    if (regen?.button === b) {
      // The second click of a double click (detail 2+) is not a Cancel: the first one just started this regeneration.
      if (e.detail > 1) return;
      b.textContent = 'Cancelling…';
      regen.controller.abort();
    } else regenerate(Number(b.dataset.week), b);
  });

  ui.exportJson.addEventListener('click', () => {
    if (current?.roadmap) download(`${fileBase(current.roadmap)}.json`, 'application/json', toJson(current.roadmap));
  });
  ui.exportMd.addEventListener('click', () => {
    if (current?.roadmap) download(`${fileBase(current.roadmap)}.md`, 'text/markdown', toMarkdown(current.roadmap));
  });
  const dateError = $('startDate-error');
  const clearDateError = () => {
    ui.startDate.removeAttribute('aria-invalid');
    dateError.hidden = true;
    dateError.textContent = '';
  };
  ui.startDate.addEventListener('input', clearDateError);
  ui.exportIcs.addEventListener('click', () => {
    if (!current?.roadmap) return;
    clearDateError();
    if (!ui.startDate.value) ui.startDate.value = nextMonday(); // left empty: the coming Monday
    let ics;
    try {
      ics = toIcs(current.roadmap, ui.startDate.value);
    } catch (err) {
      // A date out of range (or unreadable): say so next to it, download nothing.
      dateError.textContent = err.message;
      dateError.hidden = false;
      ui.startDate.setAttribute('aria-invalid', 'true');
      ui.startDate.focus();
      return;
    }
    download(`${fileBase(current.roadmap)}.ics`, 'text/calendar', ics);
  });
  ui.clear.addEventListener('click', () => {
    if (run) return;
    // A regeneration patches the roadmap being cleared: stop it, and let nothing it returns come back.
    regen?.controller.abort();
    regen = null;
    try {
      localStorage.removeItem(STORE_KEY);
    } catch {
      /* nothing stored */
    }
    lastSaved = null;
    current = null;
    resetView();
    clearErrors();
    setState('idle');
    ui.role.focus();
  });
}

async function main() {
  wire();
  ui.startDate.value = nextMonday();
  try {
    const remembered = sessionStorage.getItem(KEY_SLOT);
    if (remembered) {
      ui.apiKey.value = remembered;
      ui.rememberKey.checked = true;
    }
  } catch {
    /* storage disabled */
  }
  try {
    restore();
  } catch (err) {
    // Whatever a saved copy holds, it must not keep the page from starting.
    console.warn('restoring the saved roadmap failed', err?.name);
    discardSaved('it could not be shown');
  }
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) config = { ...config, ...(await res.json()) };
  } catch {
    /* static hosting without the demo server: real Gemini only */
  }
  renderBackend();
  try {
    await init();
    wasmReady = true;
  } catch (err) {
    showFormError(`The roadmap engine (WebAssembly) could not be loaded: ${err?.message ?? err}. Run “npm run build” and reload.`);
  }
  // From what is on screen now: another tab may have saved or removed the roadmap while this one loaded.
  setState(current ? (current.complete ? 'done' : 'partial') : 'idle');
  watchOtherTab();
  document.body.dataset.ready = wasmReady ? 'true' : 'false';
}

main();
