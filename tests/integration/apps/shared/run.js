// The page logic every test app shares (copied into each app as shared/run.js by the tests).
// It reads its settings from the query string, generates a roadmap with the package the app imported
// and renders it with textContent only (model output is never parsed as HTML).
// The outcome lands in document.body.dataset.status ("done" | "error") and window.__result.
export async function runPage({ init, generateRoadmap, flavour }) {
  const q = new URLSearchParams(location.search);
  const out = document.getElementById('out');
  const events = [];
  document.body.dataset.status = 'running';
  try {
    if (init) await init();
    const roadmap = await generateRoadmap({
      apiKey: q.get('key') ?? '',
      baseUrl: q.get('mock') ?? undefined,
      role: q.get('role') ?? 'DevOps Engineer',
      weeks: Number(q.get('weeks') ?? 3),
      log: false,
      onProgress: (event) => events.push(event.type),
    });
    render(roadmap, out);
    window.__result = { ok: true, flavour, events, weeks: roadmap.weeks.length };
    document.body.dataset.status = 'done';
  } catch (e) {
    window.__result = { ok: false, flavour, events, error: `${e?.code ?? e?.name}: ${e?.message ?? e}` };
    out.textContent = window.__result.error;
    document.body.dataset.status = 'error';
  }
}

export function render(roadmap, out) {
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  out.replaceChildren(el('h2', 'role', `${roadmap.role}: ${roadmap.totalWeeks} weeks`));
  for (const week of roadmap.weeks) {
    const section = el('section', 'week');
    section.dataset.week = String(week.week);
    section.append(el('h3', null, `Week ${week.week}: ${week.title}`));
    const days = el('ol', 'days');
    for (const day of week.days) {
      const li = el('li', 'day', `Day ${day.day}: ${day.title}`);
      li.dataset.day = String(day.day);
      days.append(li);
    }
    section.append(days);
    out.append(section);
  }
}

// Main-thread side of the worker pages: the worker generates, this thread only listens, counts its
// own timer ticks and animation frames, and renders the roadmap the worker posts back. Every progress
// event is stamped with the tick and frame counters at its arrival, so the test can check that the main
// thread kept running between events without asserting any absolute time.
export function runWorkerPage(worker, flavour) {
  const q = new URLSearchParams(location.search);
  const out = document.getElementById('out');
  const progress = [];
  let ticks = 0;
  let frames = 0;
  let running = true;
  const interval = setInterval(() => ticks++, 4);
  const frame = () => {
    frames++;
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  document.body.dataset.status = 'running';
  const finish = (status, extra) => {
    running = false;
    clearInterval(interval);
    const wasmOnMainThread = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).length;
    window.__result = { flavour, progress, ticks, frames, wasmOnMainThread, ...extra };
    document.body.dataset.status = status;
  };
  let scope = null;
  worker.onmessage = ({ data }) => {
    if (data.type === 'ready') scope = data.scope;
    else if (data.type === 'progress') progress.push({ type: data.event.type, ticks, frames });
    else if (data.type === 'done') {
      render(data.roadmap, out);
      finish('done', { ok: true, scope, weeks: data.roadmap.weeks.length });
    } else if (data.type === 'error') {
      out.textContent = data.error;
      finish('error', { ok: false, scope, error: data.error });
    }
  };
  worker.onerror = (e) => {
    out.textContent = `worker error: ${e.message}`;
    finish('error', { ok: false, scope, error: `worker error: ${e.message}` });
  };
  worker.postMessage({
    options: {
      apiKey: q.get('key') ?? '',
      baseUrl: q.get('mock') ?? undefined,
      role: q.get('role') ?? 'DevOps Engineer',
      weeks: Number(q.get('weeks') ?? 3),
      batchWeeks: Number(q.get('batchWeeks') ?? 1),
      log: false,
    },
  });
}
