// Exports: the page's JSON / Markdown / ICS downloads, and the pure builders in www/exports.js.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { icsEscape, icsFold, nextMonday, parseDate, toIcs, toMarkdown, fileBase } from '../../www/exports.js';
import { fillForm, openPage, readDownload, waitState, useEnv } from './support.mjs';

/** Unfolds an iCalendar text into logical lines. */
const unfold = (ics) => ics.replace(/\r\n[ \t]/g, '').split('\r\n');

describe('exports from the page', () => {
  const env = useEnv();

  test('JSON, Markdown and ICS download and parse (ICS: one all-day VEVENT per day from the chosen date)', async () => {
    const p = await openPage(env);
    const { page } = p;
    const key = 'export-test-key-77aa';
    try {
      await fillForm(page, { role: 'ML Engineer', weeks: 2, key, baseUrl: env.mock.url });
      await page.click('#generate');
      await waitState(page, 'done');
      await page.fill('#startDate', '2026-03-02');

      const grab = async (button) => {
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
        return { name: dl.suggestedFilename(), text: readDownload(await dl.path()) };
      };

      const json = await grab('#export-json');
      assert.equal(json.name, 'ml-engineer-2-week-roadmap.json');
      const rm = JSON.parse(json.text);
      assert.equal(rm.role, 'ML Engineer');
      assert.equal(rm.totalWeeks, 2);
      assert.deepEqual(rm.weeks.map((w) => w.days.length), [7, 7]);
      assert.ok(rm.usage.requests > 0);
      assert.ok(!json.text.includes(key), 'no key in the export');

      const md = await grab('#export-md');
      assert.equal(md.name, 'ml-engineer-2-week-roadmap.md');
      assert.match(md.text, /^# ML Engineer — 2-week learning roadmap\n/);
      const weekHeadings = md.text.match(/^## Week \d+: .+$/gm);
      assert.deepEqual(weekHeadings.map((h) => h.match(/\d+/)[0]), ['1', '2']);
      assert.equal(md.text.match(/^### Day \d+: /gm).length, 14);
      assert.ok(md.text.includes('- [ ] '), 'tasks as a checklist');

      const ics = await grab('#export-ics');
      assert.equal(ics.name, 'ml-engineer-2-week-roadmap.ics');
      const raw = ics.text;
      assert.ok(raw.startsWith('BEGIN:VCALENDAR\r\n') && raw.endsWith('END:VCALENDAR\r\n'));
      assert.ok(!/[^\r]\n/.test(raw), 'every line ends with CRLF');
      for (const line of raw.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `line over 75 octets: ${line}`);
      const lines = unfold(raw);
      assert.ok(lines.includes('VERSION:2.0'));
      assert.ok(lines.some((l) => l.startsWith('PRODID:')));
      const events = raw.split('BEGIN:VEVENT').length - 1;
      assert.equal(events, 14, 'N × 7 VEVENTs');
      assert.equal(lines.filter((l) => l === 'END:VEVENT').length, 14);
      const starts = lines.filter((l) => l.startsWith('DTSTART;VALUE=DATE:')).map((l) => l.split(':')[1]);
      assert.equal(starts[0], '20260302');
      assert.equal(starts.at(-1), '20260315');
      assert.equal(new Set(starts).size, 14, 'one day each');
      const uids = lines.filter((l) => l.startsWith('UID:'));
      assert.equal(new Set(uids).size, 14, 'unique UIDs');
      assert.equal(lines.filter((l) => /^DTSTAMP:\d{8}T\d{6}Z$/.test(l)).length, 14);
      assert.equal(lines.filter((l) => /^DTEND;VALUE=DATE:\d{8}$/.test(l)).length, 14);
      assert.equal(lines.filter((l) => l.startsWith('SUMMARY:')).length, 14);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('Calendar (.ics) refuses a start date outside 1900-9999 with a message next to the date, and downloads nothing', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await fillForm(page, { weeks: 1, batch: 1 });
      await page.click('#generate');
      await waitState(page, 'done');
      let downloads = 0;
      page.on('download', () => downloads++);
      for (const [date, message] of [['0099-03-02', /from 1900 to 9999/], ['1899-12-31', /from 1900 to 9999/], ['9999-12-28', /run past 9999/]]) {
        await page.fill('#startDate', date);
        await page.click('#export-ics');
        await page.waitForSelector('#startDate-error:not([hidden])');
        assert.match(await page.textContent('#startDate-error'), message, date);
        assert.equal(await page.getAttribute('#startDate', 'aria-invalid'), 'true');
        assert.equal(await page.evaluate(() => document.activeElement.id), 'startDate');
        assert.equal(downloads, 0, `nothing downloaded for ${date}`);
      }
      await page.fill('#startDate', '1900-01-01');
      assert.equal(await page.isVisible('#startDate-error'), false, 'editing the date clears the message');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-ics')]);
      const lines = unfold(readDownload(await dl.path()));
      assert.equal(lines.find((l) => l.startsWith('DTSTART')), 'DTSTART;VALUE=DATE:19000101');
      p.assertClean();
    } finally {
      await p.close();
    }
  });
});

describe('export builders (www/exports.js)', () => {
  const roadmap = {
    role: 'Data, Engineer; "Ops"\\ Lead',
    totalWeeks: 1,
    level: 'Beginner',
    hoursPerDay: 2,
    phases: [{ name: 'Basics', startWeek: 1, endWeek: 1, goal: 'Start' }],
    outline: [{ week: 1, title: 'SQL', phase: 'Basics' }],
    weeks: [
      {
        week: 1,
        title: 'SQL, joins; and more',
        phase: 'Basics',
        fallback: false,
        days: Array.from({ length: 7 }, (_, i) => ({
          day: i + 1,
          title: `Día ${i + 1} — ünïcödé 🚀 ${'long text '.repeat(12)}`,
          tasks: ['Line one\nline two', 'Semi; colon, comma'],
          resources: ['https://example.com/a,b'],
          hours: 1.5,
        })),
      },
    ],
  };

  test('icsEscape and icsFold follow RFC 5545 (escaping, 75-octet folding without splitting characters)', () => {
    assert.equal(icsEscape('a\\b;c,d\ne\r\nf'), 'a\\\\b\\;c\\,d\\ne\\nf');
    const folded = icsFold(`SUMMARY:${'ü'.repeat(100)}🚀🚀`);
    const parts = folded.split('\r\n');
    assert.ok(parts.length > 1);
    for (const [i, part] of parts.entries()) {
      assert.ok(Buffer.byteLength(part) <= 75, `part ${i} has ${Buffer.byteLength(part)} octets`);
      if (i > 0) assert.ok(part.startsWith(' '));
      assert.ok(!part.includes('\uFFFD'));
    }
    assert.equal(parts.map((x, i) => (i ? x.slice(1) : x)).join(''), `SUMMARY:${'ü'.repeat(100)}🚀🚀`);
  });

  test('toIcs: escaped text, dates across a month end, stable UIDs; toMarkdown: a heading per week and day', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const ics = toIcs(roadmap, '2026-01-28', now);
    const lines = ics.replace(/\r\n /g, '').split('\r\n');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('DTSTART')).map((l) => l.slice(-8)),
      ['20260128', '20260129', '20260130', '20260131', '20260201', '20260202', '20260203'],
    );
    assert.ok(lines.includes('DTSTAMP:20260102T030405Z'));
    assert.ok(lines.some((l) => l.startsWith('DESCRIPTION:') && l.includes('Line one line two') && l.includes('Semi\\; colon\\, comma') && l.includes('\\n')));
    assert.ok(lines.includes('X-WR-CALNAME:Data\\, Engineer\\; "Ops"\\\\ Lead roadmap'));
    assert.equal(toIcs(roadmap, '2026-01-28', now), ics, 'deterministic');
    assert.notEqual(toIcs(roadmap, '2026-02-02', now).match(/UID:[^\r]+/)[0], ics.match(/UID:[^\r]+/)[0], 'UID depends on the start date');
    assert.throws(() => toIcs(roadmap, 'not a date'));

    const md = toMarkdown(roadmap);
    assert.match(md, /^## Week 1: SQL, joins; and more$/m);
    assert.equal(md.match(/^### Day \d: /gm).length, 7);
    assert.match(md, /^- \[ \] Line one line two$/m, 'task text stays on one line');
    assert.equal(fileBase(roadmap), 'data-engineer-ops-lead-1-week-roadmap');
    assert.match(md, / · 1 of 1 weeks generated$/m);
    // A placeholder week was counted as generated ("4 of 4 weeks generated"); found by an exploratory test.
    const withPlaceholder = { ...roadmap, totalWeeks: 2, weeks: [roadmap.weeks[0], { ...roadmap.weeks[0], week: 2, fallback: true }] };
    assert.match(toMarkdown(withPlaceholder), / · 1 of 2 weeks generated, 1 placeholder$/m);
    // Roles in any script name the file (they all became `roadmap`); accents go, Hangul stays whole.
    const named = (role) => fileBase({ role, totalWeeks: 4 });
    assert.equal(named('数据 工程师'), '数据-工程师-4-week-roadmap');
    assert.equal(named('Инженер DevOps'), 'инженер-devops-4-week-roadmap');
    assert.equal(named('데이터 엔지니어'), '데이터-엔지니어-4-week-roadmap');
    assert.equal(named('Développeur Web/Mobile'), 'developpeur-webmobile-4-week-roadmap');
    assert.equal(named('🚀 ?'), 'roadmap-4-week-roadmap');
    // Marks that are part of a letter stay (stripping every mark changed the words: found by a review).
    assert.equal(named('データエンジニア'), 'データエンジニア-4-week-roadmap');
    assert.equal(named('डेटा इंजीनियर'), 'डेटा-इंजीनियर-4-week-roadmap');
    assert.equal(named('Йога'), 'йога-4-week-roadmap');
    assert.equal(named('-DevOps-'), 'devops-4-week-roadmap');
    // Within the 255 bytes of most file systems, and never ending in a dash where it was cut.
    const long = named('𠀀'.repeat(80));
    assert.ok(Buffer.byteLength(`${long}.md`) <= 255, long);
    assert.equal(named(`${'a'.repeat(49)} b`), `${'a'.repeat(49)}-4-week-roadmap`);
  });

  test('toMarkdown: model text cannot become HTML or a non-http(s) link; http(s) URLs stay links', () => {
    const hostile = {
      ...roadmap,
      role: '<img src=x onerror="alert(1)"> Dev',
      phases: [{ name: '<script>alert(2)</script>', startWeek: 1, endWeek: 1, goal: '[go](javascript:alert(3))' }],
      weeks: [{
        week: 1,
        title: '**Bold** <b>tag</b> & `code`',
        phase: 'P_1',
        days: [{
          day: 1,
          title: '<a href="javascript:alert(4)">x</a>',
          tasks: ['Click [here](javascript:alert(5)) or <javascript:alert(6)>', '![img](https://evil.example/i.png) and &lt;script&gt;'],
          resources: ['Docs: https://kubernetes.io/docs/concepts_x/.', '[Make](https://en.wikipedia.org/wiki/Make_(software))'],
          hours: 1,
        }],
      }],
    };
    const md = toMarkdown(hostile);
    const autolinks = md.match(/<https?:\/\/[^\s<>]+>/g) ?? [];
    assert.deepEqual(autolinks, ['<https://evil.example/i.png>', '<https://kubernetes.io/docs/concepts_x/>', '<https://en.wikipedia.org/wiki/Make_(software)>']);
    const rest = md.replace(/<https?:\/\/[^\s<>]+>/g, '');
    assert.ok(!rest.includes('<'), `no raw "<" outside the autolinks:\n${md}`);
    assert.ok(!/(?<!\\)\]\(/.test(md), 'no Markdown link syntax left unescaped');
    assert.ok(!/(?<!\\)!\[/.test(md), 'no image syntax');
    assert.ok(!/(?<!\\)\*\*Bold/.test(md) && !/(?<!\\)`code/.test(md), 'emphasis and code are escaped');
    assert.match(md, /&lt;img src=x onerror="alert\(1\)"&gt; Dev/);
    assert.match(md, /&amp;lt;script&amp;gt;/, 'entities in model text stay text');
    assert.match(md, /^- \[ \] Click \\\[here\\\]\(javascript:alert\(5\)\) or &lt;javascript:alert\(6\)&gt;$/m);
    assert.match(md, /^- Docs: <https:\/\/kubernetes\.io\/docs\/concepts_x\/>\.$/m, 'the URL stays whole and usable');
    assert.match(md, /^- Make <https:\/\/en\.wikipedia\.org\/wiki\/Make_\(software\)>$/m, 'a Markdown link keeps its label and shows its target');
    assert.match(md, /^\*Phase: P\\_1\*$/m);
    // What would start a block inside a list item (it rendered as a heading, a rule, a nested list) stays text.
    const blocks = toMarkdown({ ...roadmap, weeks: [{ ...roadmap.weeks[0], days: [{ day: 1, title: '# Day', tasks: ['# Heading injection', '---', '1. first', '+ plus', '  - dash'], resources: ['2) two'], hours: 1 }] }] });
    // A heading's text ending in a run of `#` kept it (it was read as the closing sequence and dropped).
    const closing = toMarkdown({ ...roadmap, weeks: [{ ...roadmap.weeks[0], title: 'C# and F# ##', days: [{ day: 1, title: 'Sharp #', tasks: ['x'], resources: [], hours: null }] }] });
    for (const line of ['## Week 1: C# and F# \\##', '### Day 1: Sharp \\#']) {
      assert.ok(closing.split('\n').includes(line), `${line} in:\n${closing}`);
    }
    for (const line of ['### Day 1: \\# Day (1 h)', '- [ ] \\# Heading injection', '- [ ] \\---', '- [ ] 1\\. first', '- [ ] \\+ plus', '- [ ] \\- dash', '- 2\\) two']) {
      assert.ok(blocks.split('\n').includes(line), `${line} in:\n${blocks}`);
    }
  });

  test('ICS dates: years 1900-9999 only (no 19xx for 0099, no 7-digit dates), the end of the plan too; control characters dropped', () => {
    assert.equal(parseDate('0099-03-02'), null);
    assert.equal(parseDate('0999-03-02'), null);
    assert.equal(parseDate('1899-12-31'), null);
    assert.equal(parseDate('1900-01-01').toISOString(), '1900-01-01T00:00:00.000Z');
    assert.equal(parseDate('9999-12-31').toISOString(), '9999-12-31T00:00:00.000Z');
    assert.throws(() => toIcs(roadmap, '0099-03-02'), /from 1900 to 9999/);
    assert.throws(() => toIcs(roadmap, '9999-12-28'), /run past 9999/);
    const last = toIcs(roadmap, '9999-12-24', new Date(Date.UTC(2026, 0, 1))).replace(/\r\n /g, '').split('\r\n');
    assert.equal(last.filter((l) => l.startsWith('DTEND')).at(-1), 'DTEND;VALUE=DATE:99991231');
    for (const l of last.filter((l) => /^DT(START|END);/.test(l))) assert.match(l, /:\d{8}$/);

    assert.equal(icsEscape('a\u0000b\u0007c\u001bd\u007fe\tf\ng'), 'abcde f\\ng');
    const hostile = { ...roadmap, weeks: [{ ...roadmap.weeks[0], days: [{ ...roadmap.weeks[0].days[0], title: 'Bell\u0007 and escape\u001b[31m', tasks: ['Null\u0000 byte\u007f'] }] }] };
    const ics = toIcs(hostile, '2026-01-05', new Date(Date.UTC(2026, 0, 1)));
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(ics), 'no control characters but CRLF');
    assert.ok(ics.replace(/\r\n /g, '').includes('SUMMARY:W1·D1 Bell and escape[31m'));
  });

  test('nextMonday picks the coming Monday (today when it is Monday)', () => {
    assert.equal(nextMonday(new Date(2026, 10, 30)), '2026-11-30'); // a Monday
    assert.equal(nextMonday(new Date(2026, 11, 1)), '2026-12-07'); // a Tuesday
    assert.equal(nextMonday(new Date(2026, 11, 6)), '2026-12-07'); // a Sunday
  });
});
