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

// Bare domains (no scheme) are linked only when they cannot be a file or a product name:
// - a web TLD that is not a common file extension, written in lower case (kubernetes.io, docs.docker.com; not ASP.NET);
// - a TLD that is also a file extension or a word (roadmap.sh, about.me, libfoo.so, logo.ai, Xcode.app) only with a
//   path after it (roadmap.sh/devops); anything else (backup.sh, main.rs, Node.js) stays text;
// - never inside `backticks` (code). Full http(s):// URLs are always linked.
const WEB_TLDS = 'com|org|net|io|dev|edu|gov|info|academy|guide|cloud|tech|co|uk|de|fr|eu';
const PATH_TLDS = 'sh|so|me|ai|app|gg|ly|us|docs';
// Characters a URL may hold here: no spaces, quotes (straight or curly), angle brackets, backticks or braces.
// Parentheses are allowed and balanced afterwards (https://en.wikipedia.org/wiki/Make_(software)).
const URL_CHARS = String.raw`[^\s<>"'\x60\[\]{}“”‘’«»]`;
const HOST = String.raw`(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+`;
// [label](https://…) | https://… | bare domain
const LINK_RE = new RegExp(
  String.raw`\[([^\[\]\n]{1,200})\]\((https?:\/\/(?:[^\s()<>]|\([^\s()<>]*\))+)\)` +
    String.raw`|(https?:\/\/${URL_CHARS}+)` +
    String.raw`|(?<![\w@./:-])(${HOST}(${WEB_TLDS}|${PATH_TLDS}))(\/${URL_CHARS}*)?(?![\w-])`,
  'gi',
);
const PATH_ONLY = new RegExp(`^(?:${PATH_TLDS})$`);
// What a link's label may name: a URL, or a bare domain (any listed TLD).
const LABEL_SITE_RE = new RegExp(
  String.raw`(https?:\/\/${URL_CHARS}+)|(?<![\w@./:-])(${HOST}(?:${WEB_TLDS}|${PATH_TLDS}))(?![\w-])`,
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

const count = (s, ch) => s.split(ch).length - 1;

/** Drops trailing punctuation and unbalanced closing parentheses: `(see https://x.io/a).` → `https://x.io/a`. */
export function trimUrl(raw) {
  let s = raw;
  for (;;) {
    const t = s.replace(/[.,;:!?]+$/, '');
    if (t.endsWith(')') && count(t, ')') > count(t, '(')) s = t.slice(0, -1);
    else if (t === s) return s;
    else s = t;
  }
}

const hostOf = (url) => {
  try {
    return new URL(url).hostname.replace(/^www\./, '').replace(/\.$/, '');
  } catch {
    return null;
  }
};

// Characters a reader takes for a dot: the ideographic, fullwidth and halfwidth ideographic full stops (which a URL's
// host reads as '.' too: google。com is google.com), the one dot leader and small full stop, and dot-shaped signs of
// other scripts (Arabic-Indic zeros, Syriac, Lisu, Vai and Kharoshthi full stops).
const DOT_LIKE = /[\u3002\uFF0E\uFF61\u2024\uFE52\u0660\u06F0\u0701\u0702\uA4F8\uA60E\u{10A50}]/gu;

/** A label as a reader sees it: fullwidth letters folded to ASCII (NFKC), dot look-alikes as '.'. */
const asRead = (label) => label.normalize('NFKC').replace(DOT_LIKE, '.');

/** True when a Markdown link's label shows a URL other than its target, or names a domain other than the target's. */
function labelMisleads(label, href) {
  for (const [, url, domain] of asRead(label).matchAll(LABEL_SITE_RE)) {
    if (url && safeHttpUrl(trimUrl(url)) !== href) return true;
    // Any case: GOOGLE.COM names the same site as google.com (ASP.NET as a label shows the URL instead, at worst).
    if (domain && hostOf(`https://${domain}`) !== hostOf(href)) return true;
  }
  return false;
}

function link(href, label) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label);
}

/** Text with http(s) links made clickable; everything else stays literal text. */
export function richText(text) {
  const s = String(text ?? '');
  const frag = document.createDocumentFragment();
  // `code` spans: no bare-domain links inside (`backup.sh`, `app.py`).
  const code = [...s.matchAll(/`[^`\n]+`/g)].map((m) => [m.index, m.index + m[0].length]);
  const inCode = (i) => code.some(([a, b]) => i > a && i < b);
  let last = 0;
  for (const m of s.matchAll(LINK_RE)) {
    const [whole, mdLabel, mdUrl, url, host, tld] = m;
    const start = m.index;
    let end = start + whole.length;
    let href = null;
    let label = whole;
    if (mdUrl) {
      href = safeHttpUrl(mdUrl);
      // A label naming another site ([https://google.com](https://evil.example)) shows the real target instead.
      label = href && labelMisleads(mdLabel, href) ? mdUrl : mdLabel;
    } else if (url) {
      const trimmed = trimUrl(url);
      end = start + trimmed.length;
      href = safeHttpUrl(trimmed);
      label = trimmed;
    } else if (host) {
      const trimmed = trimUrl(whole);
      const hasPath = trimmed.length > host.length + 1; // more than a bare trailing '/'
      if (inCode(start) || tld !== tld.toLowerCase() || (PATH_ONLY.test(tld) && !hasPath)) continue;
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
  // A one-week batch's own warnings ("Week 5: renumbered …") start the same way: the placeholder's comes first.
  const lines = (roadmap.warnings || []).filter((w) => w.startsWith(prefix));
  const line = lines.find((w) => /^placeholder\b/i.test(w.slice(prefix.length).trim())) ?? lines[0];
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
export function weekCard(roadmap, w, { canRegenerate = true, offline = false, advice = '' } = {}) {
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
        `${offline ? 'The demo model’s' : 'Gemini’s'} answer for this week could not be used (${fallbackReason(roadmap, w.week)}), so it was filled in from the outline. `,
        // What to do about it depends on what is on offer now: the page keeps it up to date.
        el('span', { className: 'flag__next' }, advice),
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
