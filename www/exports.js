// Pure export builders: JSON, Markdown and iCalendar (RFC 5545) text from a Roadmap.
// No DOM here, so Node tests can import this module directly.
import { safeHttpUrl, trimUrl } from './render.js';

/** `devops-engineer-12-week-roadmap` */
export function fileBase(roadmap) {
  // Letters of any script stay (an ASCII-only filter made every Chinese or Russian role `roadmap`), with the marks
  // that are part of them (Devanagari vowel signs, Japanese voicing, the breve of й); only accents on Latin letters
  // go. At most 50 characters, so that the name stays within the 255 bytes of most file systems.
  const letters = String(roadmap.role || 'roadmap')
    .normalize('NFKD')
    .replace(/([a-z])[\u0300-\u036f]+/gi, '$1')
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, '-');
  const slug = Array.from(letters.replace(/^-+/, '')).slice(0, 50).join('').replace(/-+$/, '') || 'roadmap';
  return `${slug}-${roadmap.totalWeeks}-week-roadmap`;
}

export function toJson(roadmap) {
  return JSON.stringify(roadmap, null, 2) + '\n';
}

/** Runs of whitespace as one space, trimmed: how a role or a title is compared and written on one line. */
export const oneLine = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();
const hoursText = (h) => (Number.isFinite(h) && h > 0 ? `${+h.toFixed(2)} h` : '');

// ───────────── Markdown ─────────────

// Model text is untrusted, and a .md file is often shown by a viewer that renders HTML. So its HTML-significant
// characters become entities, Markdown's inline syntax is escaped (no links, images or code made from model
// text), so is what would start a block (a heading, a rule, a list), and only http(s) URLs become links:
// <https://…> autolinks, whose text is taken literally. A viewer with GFM's extended autolinks still links bare
// `www.` names and e-mail addresses (`mailto:`, `xmpp:`) in the text, as in any text it shows: no escape stops
// that (it reads the text after escapes), and none of those schemes runs script.
const MD_LINK_RE = /\[([^\[\]\n]{1,200})\]\((https?:\/\/(?:[^\s()<>]|\([^\s()<>]*\))+)\)|(https?:\/\/[^\s<>"'\x60\[\]{}“”‘’«»]+)/gi;

/** Plain text for Markdown: `<`, `>`, `&` as entities; `\ \` * _ [ ] ~` backslash-escaped. */
export function mdEscape(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]~]/g, '\\$&');
}

/**
 * Model text on one Markdown line: escaped, with its http(s) URLs as autolinks. A Markdown link keeps its label
 * as text, followed by its real target; a link to anything but http(s) (`[x](javascript:…)`) stays escaped text.
 */
export function mdText(s) {
  const text = oneLine(s);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(MD_LINK_RE)) {
    const [whole, label, mdUrl, url] = m;
    const raw = mdUrl ?? trimUrl(url);
    const href = safeHttpUrl(raw); // normalised: no spaces, < or > left in it
    if (!href) continue;
    out += mdEscape(text.slice(last, m.index));
    out += mdUrl ? `${mdEscape(oneLine(label))} <${href}>` : `<${href}>`;
    last = m.index + (mdUrl ? whole.length : raw.length);
  }
  // Our own prefix comes first on every line ("- ", "## Week 1: "), but a list item's text starts a block of its own:
  // `- # x` is a heading, `- ---` a rule, `- 1. x` a list inside the item. Its first character is escaped.
  // In a heading, a last run of `#` after a space is its closing sequence, and dropped (`C# ##` showed as `C#`).
  return (out + mdEscape(text.slice(last)))
    .replace(/^(\s*)(?:([#+=-])|(\d+)(?=[.)]))/, (m, sp, c, n) => (c ? `${sp}\\${c}` : `${sp}${n}\\`))
    .replace(/(^|[ \t])(#+)[ \t]*$/, '$1\\$2');
}

export function toMarkdown(roadmap) {
  const out = [];
  const num = (n) => (Number.isFinite(Number(n)) ? Number(n) : '?');
  out.push(`# ${mdText(roadmap.role)} — ${num(roadmap.totalWeeks)}-week learning roadmap`, '');
  const meta = [];
  if (roadmap.level) meta.push(`Level: ${mdText(roadmap.level)}`);
  if (roadmap.hoursPerDay) meta.push(`${num(roadmap.hoursPerDay)} h/day`);
  // A placeholder is no generated week: it counted as one.
  const placeholders = (roadmap.weeks || []).filter((w) => w.fallback).length;
  const generated = `${(roadmap.weeks || []).length - placeholders} of ${num(roadmap.totalWeeks)} weeks generated`;
  meta.push(placeholders ? `${generated}, ${placeholders} placeholder${placeholders === 1 ? '' : 's'}` : generated);
  out.push(meta.join(' · '), '');
  if (roadmap.phases?.length) {
    out.push('## Phases', '');
    for (const p of roadmap.phases) {
      const range = p.startWeek === p.endWeek ? `week ${num(p.startWeek)}` : `weeks ${num(p.startWeek)}–${num(p.endWeek)}`;
      out.push(`- **${mdText(p.name)}** (${range})${p.goal ? `: ${mdText(p.goal)}` : ''}`);
    }
    out.push('');
  }
  for (const w of roadmap.weeks || []) {
    out.push(`## Week ${num(w.week)}: ${mdText(w.title)}`, '');
    if (w.phase) out.push(`*Phase: ${mdText(w.phase)}*`, '');
    if (w.fallback) out.push('> Placeholder week: the model did not deliver this week; regenerate it for a full plan.', '');
    for (const d of w.days || []) {
      const h = hoursText(d.hours);
      out.push(`### Day ${num(d.day)}: ${mdText(d.title)}${h ? ` (${h})` : ''}`, '');
      for (const t of d.tasks || []) out.push(`- [ ] ${mdText(t)}`);
      if (d.resources?.length) {
        out.push('', 'Resources:', '');
        for (const r of d.resources) out.push(`- ${mdText(r)}`);
      }
      out.push('');
    }
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

// ───────────── iCalendar ─────────────

/** RFC 5545 TEXT escaping; control characters (other than line breaks, which become \n) are dropped. */
export function icsEscape(s) {
  return String(s ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\n/g, '\\n');
}

const utf8Len = (ch) => {
  const c = ch.codePointAt(0);
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
};

/** Folds a content line to at most 75 octets per physical line, never inside a UTF-8 sequence. */
export function icsFold(line) {
  const parts = [];
  let cur = '';
  let len = 0;
  for (const ch of line) {
    const n = utf8Len(ch);
    const limit = parts.length === 0 ? 75 : 74; // continuation lines start with one space
    if (len + n > limit) {
      parts.push(cur);
      cur = '';
      len = 0;
    }
    cur += ch;
    len += n;
  }
  parts.push(cur);
  return parts.join('\r\n ');
}

/** The calendar's years: four digits, and none that calendar apps misread (0–99 as 19xx). */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;

/** `YYYY-MM-DD` (a year from 1900 to 9999) → Date at UTC midnight, or null. */
export function parseDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ''));
  if (!m || +m[1] < MIN_YEAR || +m[1] > MAX_YEAR) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCMonth() === +m[2] - 1 ? d : null;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const icsDate = (d) => `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
const icsStamp = (d) =>
  `${icsDate(d)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);

/** FNV-1a, for short stable UIDs. */
function hash(s) {
  let h = 0x811c9dc5;
  for (const ch of s) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

/**
 * One all-day VEVENT per day; week 1 day 1 falls on `startDate` (`YYYY-MM-DD`), and each week takes
 * seven consecutive days. UIDs are stable for the same roadmap and start date, so importing again updates.
 */
export function toIcs(roadmap, startDate, now = new Date()) {
  const start = parseDate(startDate);
  if (!start) throw new Error(`Choose a start date from ${MIN_YEAR} to ${MAX_YEAR}.`);
  const lastDay = addDays(start, (Number(roadmap.totalWeeks) || 1) * 7);
  if (lastDay.getUTCFullYear() > MAX_YEAR) throw new Error(`The calendar would run past ${MAX_YEAR}: choose an earlier start date.`);
  const stamp = icsStamp(now);
  const uidBase = `gr-${hash(`${roadmap.role}|${roadmap.totalWeeks}|${startDate}`)}`;
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//gemini-roadmap//Learning roadmap//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${icsEscape(`${oneLine(roadmap.role)} roadmap`)}`,
  ];
  for (const w of roadmap.weeks || []) {
    for (const d of w.days || []) {
      const date = addDays(start, (w.week - 1) * 7 + (d.day - 1));
      const desc = [];
      if (w.phase) desc.push(`Phase: ${oneLine(w.phase)}`);
      desc.push(`Week ${w.week}: ${oneLine(w.title)}`);
      if (d.hours) desc.push(`Time: ${hoursText(d.hours)}`);
      if (d.tasks?.length) desc.push('', 'Tasks:', ...d.tasks.map((t) => `- ${oneLine(t)}`));
      if (d.resources?.length) desc.push('', 'Resources:', ...d.resources.map((r) => `- ${oneLine(r)}`));
      lines.push(
        'BEGIN:VEVENT',
        `UID:${uidBase}-w${pad(w.week)}-d${d.day}@gemini-roadmap`,
        `DTSTAMP:${stamp}`,
        `DTSTART;VALUE=DATE:${icsDate(date)}`,
        `DTEND;VALUE=DATE:${icsDate(addDays(date, 1))}`,
        `SUMMARY:${icsEscape(`W${w.week}·D${d.day} ${oneLine(d.title)}`)}`,
        `DESCRIPTION:${icsEscape(desc.join('\n'))}`,
        'TRANSP:TRANSPARENT',
        'END:VEVENT',
      );
    }
  }
  lines.push('END:VCALENDAR');
  return lines.map(icsFold).join('\r\n') + '\r\n';
}

/** The next Monday (today if it is Monday) as `YYYY-MM-DD`, in local time. */
export function nextMonday(today = new Date()) {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  const shift = (8 - d.getDay()) % 7;
  d.setDate(d.getDate() + shift);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
