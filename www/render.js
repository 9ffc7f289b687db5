// DOM builders for the roadmap. Everything the model wrote is untrusted: it only ever reaches the page
// through textContent / createTextNode, and only http(s) URLs become links.

/** `el('p', {className: 'x', dataset: {week: 3}}, 'text', childNode)` */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'className') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const TLDS = 'com|org|io|dev|net|edu|gov|ai|co|app|cloud|tech|sh|me|info|academy|guide|docs|so|gg|ly|us|uk|de|fr';
// [label](https://…) | https://… | bare domain with a common TLD (kubernetes.io/docs)
const LINK_RE = new RegExp(
  String.raw`\[([^\[\]\n]{1,200})\]\((https?:\/\/[^\s()<>]+)\)` +
    String.raw`|(https?:\/\/[^\s<>"'\x60()\[\]{}]+)` +
    String.raw`|(?<![\w@./:-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:${TLDS})(?:\/[^\s<>"'\x60()\[\]{},;]*)?)(?![\w-])`,
  'gi',
);

/** Returns a safe absolute http(s) URL string, or null. */
export function safeHttpUrl(raw) {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function link(href, label) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label);
}

/** Text with http(s) links made clickable; everything else stays literal text. */
export function richText(text) {
  const s = String(text ?? '');
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of s.matchAll(LINK_RE)) {
    let [whole, mdLabel, mdUrl, url, bare] = m;
    let start = m.index;
    let end = start + whole.length;
    let href = null;
    let label = whole;
    if (mdUrl) {
      href = safeHttpUrl(mdUrl);
      label = mdLabel;
    } else if (url) {
      const trimmed = url.replace(/[.,;:!?]+$/, '');
      end = start + trimmed.length;
      href = safeHttpUrl(trimmed);
      label = trimmed;
    } else if (bare) {
      const trimmed = bare.replace(/[.,;:!?]+$/, '');
      end = start + trimmed.length;
      href = safeHttpUrl(`https://${trimmed}`);
      label = trimmed;
    }
    if (!href) continue;
    if (start > last) frag.append(document.createTextNode(s.slice(last, start)));
    frag.append(link(href, label));
    last = end;
  }
  if (last < s.length) frag.append(document.createTextNode(s.slice(last)));
  return frag;
}

export const hoursLabel = (h) => {
  const n = Number(h);
  if (!Number.isFinite(n) || n <= 0) return '';
  return `${+n.toFixed(2)} h`;
};

const rangeLabel = (a, b) => (a === b ? `Week ${a}` : `Weeks ${a}–${b}`);

/** Index of a phase by name, for a stable accent colour per phase. */
export function phaseIndex(roadmap, name) {
  const i = (roadmap.phases || []).findIndex((p) => p.name === name);
  return i < 0 ? 0 : i % 6;
}

export function phaseItems(roadmap) {
  return (roadmap.phases || []).map((p, i) => {
    const item = el(
      'li',
      { className: `phase phase--c${i % 6}` },
      el('span', { className: 'phase__weeks' }, rangeLabel(p.startWeek, p.endWeek)),
      el('strong', { className: 'phase__name' }, p.name),
      p.goal ? el('span', { className: 'phase__goal' }, p.goal) : null,
    );
    // CSSOM, not a style attribute: allowed by the page's CSP.
    item.style.flexGrow = String(Math.max(1, (p.endWeek || 0) - (p.startWeek || 0) + 1));
    return item;
  });
}

/** The reason a week is a placeholder, from the roadmap's `Week N: …` warnings. */
export function fallbackReason(roadmap, week) {
  const prefix = `Week ${week}:`;
  const line = (roadmap.warnings || []).find((w) => w.startsWith(prefix));
  if (!line) return 'the model did not deliver this week';
  return line.slice(prefix.length).trim().replace(/^placeholder\s*[—–-]\s*/i, '') || 'the model did not deliver this week';
}

function dayDetails(d) {
  const hours = hoursLabel(d.hours);
  const body = el('div', { className: 'day__body' });
  if (d.tasks?.length) {
    body.append(
      el('h6', { className: 'day__label' }, 'Tasks'),
      el('ul', { className: 'tasks' }, d.tasks.map((t) => el('li', {}, richText(t)))),
    );
  }
  if (d.resources?.length) {
    body.append(
      el('h6', { className: 'day__label' }, 'Resources'),
      el('ul', { className: 'resources' }, d.resources.map((r) => el('li', {}, richText(r)))),
    );
  }
  return el(
    'details',
    { className: 'day', dataset: { day: d.day } },
    el(
      'summary',
      {},
      el('span', { className: 'day__num' }, `Day ${d.day}`),
      el('span', { className: 'day__title' }, d.title),
      hours ? el('span', { className: 'day__hours' }, hours) : null,
    ),
    body,
  );
}

/** One week card. `busy` disables its regenerate button. */
export function weekCard(roadmap, w, { canRegenerate = true } = {}) {
  const id = `week-${w.week}`;
  const totalHours = (w.days || []).reduce((s, d) => s + (Number(d.hours) || 0), 0);
  const meta = [`${(w.days || []).length} days`];
  if (totalHours > 0) meta.push(`${+totalHours.toFixed(1)} h`);
  const card = el(
    'article',
    {
      className: `week-card phase-accent--c${phaseIndex(roadmap, w.phase)}${w.fallback ? ' is-fallback' : ''}`,
      id,
      dataset: { week: w.week, fallback: w.fallback ? 'true' : 'false' },
      'aria-labelledby': `${id}-title`,
    },
    el(
      'header',
      { className: 'week-card__head' },
      el('p', { className: 'week-card__num' }, `Week ${w.week}`),
      el('h5', { className: 'week-card__title', id: `${id}-title`, tabindex: '-1' }, w.title),
      el(
        'p',
        { className: 'week-card__meta' },
        w.phase ? el('span', { className: 'chip' }, w.phase) : null,
        el('span', {}, meta.join(' · ')),
      ),
    ),
  );
  if (w.fallback) {
    card.append(
      el(
        'div',
        { className: 'flag', role: 'note' },
        el('strong', {}, 'Placeholder week. '),
        `Gemini’s answer for this week could not be used (${fallbackReason(roadmap, w.week)}), so it was filled in from the outline. Regenerate it for a full plan.`,
      ),
    );
  }
  card.append(el('div', { className: 'days' }, (w.days || []).map(dayDetails)));
  card.append(
    el(
      'footer',
      { className: 'week-card__foot' },
      el('p', { className: 'week-card__msg', role: 'status' }),
      el(
        'button',
        {
          type: 'button',
          className: `btn btn--small ${w.fallback ? 'btn--primary' : 'btn--ghost'}`,
          dataset: { action: 'regenerate', week: w.week },
          disabled: !canRegenerate,
          'aria-describedby': `${id}-title`,
        },
        'Regenerate week',
      ),
    ),
  );
  return card;
}
