// The demo page at 375 px, keyboard use, labels, focus visibility and text contrast (light and dark),
// plus static checks of the page's source (no HTML sinks, no inline script or style, the CSP).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT, SHOTS, STORE_KEY, fillForm, openPage, shot, waitState, useEnv } from './support.mjs';

/** In the page: text/background contrast of every visible element matching the selectors. */
function contrastReport(selectors) {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const blend = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a === 1) break;
      }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const l of layers.reverse()) bg = blend(l, bg);
    return bg;
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || !el.textContent.trim()) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || Number(cs.opacity) < 1) continue;
      const bg = background(el);
      const fg = blend(parse(cs.color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      out.push({ sel, ratio: (hi + 0.05) / (lo + 0.05), text: el.textContent.trim().slice(0, 40) });
      break; // one sample per selector is enough: they share their colours
    }
  }
  return out;
}

const TEXT_SELECTORS = [
  'body', '.brand__name', '.brand__pitch', 'label[for="role"]', '.optional', '.field__hint', '.field__error', '.check',
  '#role', '.backend__status', '.advanced summary', '#generate', '#continue', '.btn--secondary', '.btn--ghost',
  '.status__head h3', '.status__detail', '.log time', '.log__line', '.log__line--ok', '.log__line--warn',
  '.usage__grid dt', '.usage__grid dd', '.usage__note', '.roadmap__title', '.roadmap__meta', '.section-label',
  '.field--inline label', '.phase__weeks', '.phase--c1 .phase__weeks', '.phase--c2 .phase__weeks', '.phase--c3 .phase__weeks',
  '.phase__name', '.phase__goal', '.week-card__num', '.week-card__title', '.chip', '.week-card__meta', '.day__num',
  '.day__title', '.day__hours', '.day__label', '.tasks li', '.resources li', '.resources a', '.flag', '.flag strong',
  '.site-footer p', '.empty p', '.empty h3',
];

const env = useEnv();

describe('layout and accessibility', () => {
  test('usable at 375 px: no horizontal scrolling, the whole flow works, screenshots', async () => {
    const p = await openPage(env, { viewport: { width: 375, height: 812 } });
    const { page } = p;
    try {
      const noOverflow = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.equal(await noOverflow(), true, 'idle page fits');
      await shot(page, 'mobile-idle');
      await env.script('*', [{}, { fault: 'prose', repeat: 20 }]); // one placeholder batch → flags visible too
      await fillForm(page, { weeks: 4, batch: 2 });
      await page.click('#generate');
      await waitState(page, 'done');
      await page.locator('#week-3 details.day summary').first().click();
      assert.equal(await noOverflow(), true, 'the roadmap fits');
      const wide = await page.$$eval('main *', (els) =>
        els.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.className || e.tagName),
      );
      assert.deepEqual(wide, [], 'no element sticks out to the right');
      const btn = await page.locator('#generate').boundingBox();
      assert.ok(btn.height >= 40, 'touch-sized buttons');
      await shot(page, 'mobile-full', { fullPage: true });
      await page.locator('#roadmap-title').scrollIntoViewIfNeeded();
      await page.evaluate(() => document.getElementById('roadmap').scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: join(SHOTS, 'mobile.png') });
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('a long one-word role wraps at 375 px: no horizontal scrolling', async () => {
    const p = await openPage(env, { viewport: { width: 375, height: 812 } });
    const { page } = p;
    try {
      const role = 'Datenbankadministratorenweiterbildungsbeauftragter';
      await fillForm(page, { role, weeks: 1, batch: 1 });
      await page.click('#generate');
      await waitState(page, 'done');
      assert.match(await page.textContent('#roadmap-title'), new RegExp(role));
      const wide = await page.$$eval('main *', (els) =>
        els.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.id || e.className || e.tagName),
      );
      assert.deepEqual(wide, [], 'no element sticks out to the right');
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('52 one-week batches fit at 320 px: the progress segments wrap onto more rows, no horizontal scrolling', async () => {
    const p = await openPage(env, { viewport: { width: 320, height: 700 } });
    const { page } = p;
    try {
      await fillForm(page, { weeks: 52, batch: 1 });
      await page.click('#generate');
      await page.waitForFunction(() => document.querySelectorAll('#progress .seg').length === 52);
      // 52 segments with their borders and gaps made the status card 358 px wide.
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
        progress: document.getElementById('progress').getBoundingClientRect().right,
        card: document.getElementById('status-card').getBoundingClientRect().right,
      }));
      assert.ok(widths.page <= widths.view, `the page is ${widths.page} px wide at ${widths.view} px`);
      assert.ok(widths.card <= widths.view && widths.progress <= widths.card, 'the bar stays inside the status card');
      const segs = await page.$$eval('#progress .seg', (ss) => ss.map((s) => s.getBoundingClientRect().width));
      for (const w of segs) assert.ok(w >= 6, `a segment is ${w.toFixed(1)} px wide: still visible`);
      await page.locator('#status-card').screenshot({ path: join(SHOTS, 'progress-52-at-320.png') });
      await page.click('#cancel');
      await waitState(page, 'cancelled');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'stopped: still fits');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('phases of a 52-week plan wrap onto more rows instead of shrinking: a 1-week phase stays readable', async () => {
    const phases = [
      ['Orientation', 1, 1], ['Containerization and orchestration', 2, 20], ['Infrastructure', 21, 21], ['Observability', 22, 40],
      ['Security', 41, 41], ['Reliability engineering', 42, 50], ['Review', 51, 51], ['Capstone', 52, 52],
    ].map(([name, startWeek, endWeek]) => ({ name, startWeek, endWeek, goal: `Goal of ${name}` }));
    const outline = Array.from({ length: 52 }, (_, i) => ({ week: i + 1, title: `Week ${i + 1}`, phase: phases.find((p) => p.endWeek >= i + 1).name }));
    const days = Array.from({ length: 7 }, (_, i) => ({ day: i + 1, title: `Day ${i + 1}`, tasks: ['Read'], resources: [], hours: 1 }));
    const saved = {
      v: 1,
      roadmap: { role: 'SRE', totalWeeks: 52, phases, outline, weeks: [{ week: 1, title: 'Week 1', phase: 'Orientation', days }], warnings: [], batches: [] },
      params: { role: 'SRE', weeks: 52, batchWeeks: 3 },
      model: 'gemini-3.1-flash-lite',
      offline: true,
      complete: false,
    };
    const p = await openPage(env, {
      initScript: { content: `localStorage.setItem(${JSON.stringify(STORE_KEY)}, ${JSON.stringify(JSON.stringify(saved))});` },
    });
    const { page } = p;
    try {
      await waitState(page, 'partial');
      const boxes = await page.$$eval('#phases > .phase', (ls) => ls.map((l) => {
        const r = l.getBoundingClientRect();
        return { name: l.querySelector('.phase__name').textContent, width: r.width, top: r.top, right: r.right };
      }));
      assert.equal(boxes.length, 8);
      for (const b of boxes) assert.ok(b.width >= 150, `${b.name} is ${b.width.toFixed(0)} px wide`);
      assert.ok(new Set(boxes.map((b) => Math.round(b.top))).size > 1, 'the phases take more than one row');
      const right = await page.$eval('#phases', (o) => o.getBoundingClientRect().right);
      for (const b of boxes) assert.ok(b.right <= right + 0.5, `${b.name} stays inside the list`);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('keyboard only: tab to the form, generate with Enter, focus is always visible', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link', 'a skip link comes first');
      const seen = [];
      for (let i = 0; i < 30; i++) {
        await page.keyboard.press('Tab');
        const info = await page.evaluate(() => {
          const a = document.activeElement;
          const cs = getComputedStyle(a);
          return { id: a.id, tag: a.tagName, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
        });
        seen.push(info.id || info.tag);
        assert.notEqual(info.outline, 'none', `${info.id || info.tag} shows focus`);
        assert.ok(info.width >= 2, `${info.id || info.tag} focus ring is at least 2px`);
        if (info.id === 'generate') break;
      }
      assert.deepEqual(seen.slice(0, 2), ['role', 'weeks'], 'the form starts with the role');
      assert.equal(seen.at(-1), 'generate', `reached Generate: ${seen.join(' → ')}`);
      await page.keyboard.press('Enter');
      await waitState(page, 'running');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'cancel', 'focus moves to Cancel, not to <body>');
      await waitState(page, 'done');
      assert.notEqual(await page.evaluate(() => document.activeElement.tagName), 'BODY', 'focus is not lost at the end');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('on a phone, Enter in a field starts the run and brings its status into view with focus on Cancel', async () => {
    const p = await openPage(env, { viewport: { width: 375, height: 740 } });
    const { page } = p;
    try {
      await fillForm(page, { weeks: 2, batch: 2 });
      await page.focus('#weeks');
      await page.keyboard.press('Enter');
      await waitState(page, 'running');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'cancel', 'focus leaves the field for Cancel');
      const inView = await page.evaluate(() => {
        const r = document.getElementById('status-title').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      assert.equal(inView, true, 'the status title is on screen');
      await waitState(page, 'done');
      assert.notEqual(await page.evaluate(() => document.activeElement.tagName), 'BODY', 'focus is not lost at the end');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('labels, landmarks, headings and live regions are in place', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      const unlabeled = await page.$$eval('input, select, textarea, button', (els) =>
        els.filter((e) => {
          if (e.type === 'hidden') return false;
          const name = (e.labels?.length ? [...e.labels].map((l) => l.textContent).join(' ') : '') + (e.getAttribute('aria-label') || '') + (e.tagName === 'BUTTON' ? e.textContent : '');
          return !name.trim();
        }).map((e) => e.id || e.outerHTML.slice(0, 60)),
      );
      assert.deepEqual(unlabeled, []);
      assert.equal(await page.locator('h1').count(), 1);
      assert.equal(await page.locator('body > header, body > main, body > footer').count(), 3);
      assert.equal(await page.getAttribute('#log', 'aria-live'), 'polite');
      assert.equal(await page.getAttribute('#progress', 'role'), 'progressbar');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await fillForm(page, { weeks: 2 });
      await page.click('#generate');
      await waitState(page, 'done');
      assert.equal(await page.getAttribute('#progress', 'aria-valuenow'), '2');
      assert.equal(await page.getAttribute('#progress', 'aria-valuetext'), '2 of 2 weeks ready');
      // Heading levels never skip.
      const levels = await page.$$eval('h1, h2, h3, h4, h5, h6', (hs) => hs.filter((h) => !h.closest('[hidden]')).map((h) => Number(h.tagName[1])));
      for (let i = 1; i < levels.length; i++) assert.ok(levels[i] <= levels[i - 1] + 1, `heading jump ${levels[i - 1]} → ${levels[i]}`);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  for (const colorScheme of ['light', 'dark']) {
    test(`text contrast is at least 4.5:1 (${colorScheme})`, async () => {
      const p = await openPage(env, { colorScheme });
      const { page } = p;
      try {
        const idle = await page.evaluate(contrastReport, TEXT_SELECTORS);
        await env.script('*', [{}, {}, { fault: 'prose', repeat: 20 }]); // batch 2 becomes placeholders (flag colours)
        await fillForm(page, { weeks: 4, batch: 2 });
        await page.fill('#hours', '99');
        await page.click('#generate'); // a field error, to measure its colour
        await page.waitForSelector('#hours-error:not([hidden])');
        const withError = await page.evaluate(contrastReport, TEXT_SELECTORS);
        await page.fill('#hours', '2');
        await page.click('#generate');
        await waitState(page, 'done');
        await page.$$eval('details.day', (ds) => ds.forEach((d) => (d.open = true)));
        const done = await page.evaluate(contrastReport, TEXT_SELECTORS);
        const all = [...idle, ...withError, ...done];
        const measured = new Set(all.map((r) => r.sel));
        assert.ok(measured.size >= 40, `measured ${measured.size} selectors`);
        if (process.env.PAGE_TEST_VERBOSE) console.log(all.map((r) => `${r.sel} ${r.ratio.toFixed(2)}`).join("\n"));
        const low = all.filter((r) => r.ratio < 4.5).map((r) => `${r.sel} ${r.ratio.toFixed(2)} "${r.text}"`);
        assert.deepEqual(low, []);
        if (colorScheme === 'dark') await shot(page, 'done-dark');
        p.assertClean();
      } finally {
        await p.close();
      }
    });
  }
});

describe('page source', () => {
  const www = join(ROOT, 'www');
  const files = readdirSync(www);
  const read = (f) => readFileSync(join(www, f), 'utf8');

  test('the demo server forbids framing: X-Frame-Options DENY and CSP frame-ancestors \'none\'', async () => {
    for (const path of ['/', '/index.html', '/app.js']) {
      const res = await fetch(`${env.site}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'", path);
    }
  });

  test('no HTML sinks in the scripts, no inline scripts or styles, a strict CSP, no external resources', () => {
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      const src = read(f);
      for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'localStorage.setItem(KEY']) {
        assert.ok(!src.includes(sink), `${f} uses ${sink}`);
      }
      assert.ok(!/setAttribute\(\s*['"](style|on\w+)['"]/.test(src), `${f} sets a style/event attribute`);
    }
    const html = read('index.html');
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline script');
    assert.ok(!/<style/i.test(html) && !/\sstyle=/i.test(html), 'no inline style');
    assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handler');
    assert.ok(html.includes(
      `content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http://127.0.0.1:* https://generativelanguage.googleapis.com; style-src 'self'; img-src 'self' data:"`,
    ));
    for (const f of files.filter((f) => /\.(html|css|js)$/.test(f))) {
      const external = read(f).match(/(?:src|href)=["']https?:|@import|url\(\s*["']?https?:/gi);
      assert.equal(external, null, `${f} loads something external`);
    }
  });
});
