// The demo page's error handling and safety: AUTH, retries, hostile model output, the API key's
// whereabouts and input validation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  apiRequests, fillForm, generateRequests, logLines, openPage, sequence, until, waitState, weekNumbers, useEnv,
} from './support.mjs';
import { startServer } from '../../scripts/serve.mjs';

const env = useEnv();

describe('errors and safety', () => {
  test('AUTH: a rejected key (custom base URL → mock) shows the code and tells the user to check the key', async () => {
    const p = await openPage(env);
    const { page } = p;
    const key = 'bad-key-0123456789';
    try {
      await fillForm(page, { weeks: 6, key, baseUrl: env.mock.url });
      const port = new URL(env.mock.url).port;
      assert.match(await page.textContent('#backend-label'), new RegExp(`Gemini API at 127\\.0\\.0\\.1:${port} · gemini-3\\.1-flash-lite`));
      await page.click('#generate');
      await waitState(page, 'failed');

      assert.equal(await page.isVisible('#error-box'), true);
      assert.equal(await page.textContent('#error-code'), 'AUTH');
      // Said by the server at the base URL, not by Google (found by an exploratory test).
      assert.equal(await page.textContent('#error-title'), `The server at 127.0.0.1:${port} did not accept the API key`);
      assert.match(await page.textContent('#error-advice'), /Check the key/);
      assert.equal(await page.getAttribute('#error-box', 'role'), 'alert');
      assert.equal(await page.locator('.week-card').count(), 0);
      assert.equal(await page.isVisible('#continue'), false, 'nothing to continue');
      assert.equal(await page.isVisible('#generate'), true);
      assert.ok((await logLines(page)).some((l) => /Failed: AUTH/.test(l)));

      const reqs = apiRequests(await env.requests({ key }));
      assert.ok(reqs.length >= 1, 'the request reached the base URL from the form');
      assert.equal(reqs.length, 1, 'AUTH is not retried');
      for (const r of reqs) {
        assert.equal(r.keyInUrl, false);
        assert.equal(r.headers['x-goog-api-key'], key.length, 'the key travels only in the header');
        assert.equal(r.status, 400);
      }

      // A server error from a base URL that is not Google's is not blamed on Google (found by an exploratory test).
      const good = 'page-key-custom-server-0001';
      await env.script(good, [{ fault: 'status', status: 503, repeat: 10 }]);
      await fillForm(page, { weeks: 6, key: good }); // the base URL stays the mock's
      await page.click('#generate');
      await waitState(page, 'failed');
      assert.equal(await page.textContent('#error-code'), 'SERVER');
      assert.equal(await page.textContent('#error-title'), `The server at 127.0.0.1:${port} is having trouble (HTTP 503)`);
      assert.doesNotMatch(await page.textContent('#error-advice'), /Google/);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('a key restricted to websites works from the demo (it sends its origin as referrer); one restricted to other sites is explained', async () => {
    const p = await openPage(env);
    const { page } = p;
    const key = 'site-demo-key-0123456789';
    try {
      // The page used to send no Referer at all (`no-referrer`): Google refused every such key with a 403.
      await fillForm(page, { weeks: 3, key, baseUrl: env.mock.url });
      await page.click('#generate');
      await waitState(page, 'done');
      const reqs = apiRequests(await env.requests({ key }));
      assert.ok(reqs.length >= 2 && reqs.every((r) => r.status === 200), JSON.stringify(reqs.map((r) => r.status)));

      await env.script(key, [{ fault: 'key', as: 'site' }]);
      await page.click('#generate');
      await waitState(page, 'failed');
      assert.equal(await page.textContent('#error-code'), 'AUTH');
      assert.match(await page.textContent('#error-title'), /may not be used from this site/);
      const origin = new URL(page.url()).origin;
      assert.ok((await page.textContent('#error-advice')).includes(`${origin}/*`), 'names the origin to allow');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('a 503 then success: the retry is logged with its wait and the roadmap completes', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await env.script('*', [{}, { fault: 'status', status: 503 }]);
      await fillForm(page, { weeks: 3 });
      await page.click('#generate');
      await waitState(page, 'done');

      const log = await logLines(page);
      const retry = log.find((l) => /Retrying batch 1 in \d+(\.\d)?s \(attempt 2\): .*503.*high demand/.test(l));
      assert.ok(retry, `a retry line in\n${log.join('\n')}`);
      assert.ok(log.at(-1).endsWith('Completed 1 batch successfully'));
      assert.deepEqual(await weekNumbers(page), sequence(3));
      assert.equal(await page.isVisible('#error-box'), false);
      const statuses = generateRequests(await env.requests()).map((r) => r.status);
      assert.deepEqual(statuses, [200, 503, 200]);
      assert.equal(await page.textContent('#u-requests'), String(apiRequests(await env.requests()).length), 'the retry is counted');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('once a retry\'s announced wait is over, the status says the batch is being generated again, not "Retrying in 0.5s"', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      // Batch 2 answers 503, and its retry takes 4 s to answer: the wait (about 0.5 s) ends long before.
      await env.script('*', [{}, {}, { fault: 'status', status: 503 }, { delayMs: 4000 }]);
      await fillForm(page, { weeks: 6, batch: 3 });
      await page.click('#generate');
      await page.waitForFunction(() => /^Retrying batch 2 in [\d.]+s…$/.test(document.getElementById('status-detail').textContent));
      assert.match(await page.getAttribute('#progress .seg:nth-child(2)', 'class'), /seg--retry/);
      // The retried request went out (the package says nothing until it answers)...
      await until(async () => generateRequests(await env.requests()).length === 4, { message: 'the retried request' });
      // ...and the page says so while it is under way, the segment no longer amber.
      await until(async () => /^Generating batch 2 \(attempt 2\)…$/.test(await page.textContent('#status-detail')), {
        timeout: 3000,
        message: `"Generating batch 2 (attempt 2)…" (when the retried request went out, the status said "${await page.textContent('#status-detail')}")`,
      });
      assert.match(await page.getAttribute('#progress .seg:nth-child(2)', 'class'), /seg--active/);
      assert.deepEqual(await weekNumbers(page), sequence(3), 'the retried batch has not answered yet');
      await waitState(page, 'done');
      assert.deepEqual(await page.$$eval('#progress .seg', (ss) => ss.map((s) => s.className)), ['seg seg--done', 'seg seg--done']);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('hostile model output (xss fault) renders as text and runs nothing, also after a reload', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await env.script('*', [{ fault: 'xss', repeat: 10 }]);
      await fillForm(page, { weeks: 3 });
      await page.click('#generate');
      await waitState(page, 'done');
      // Open every day so that everything is laid out (and an <img> would have loaded).
      await page.$$eval('details.day', (ds) => ds.forEach((d) => (d.open = true)));

      const check = async () => {
        assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
        assert.equal(await page.locator('#roadmap img, #roadmap script, #roadmap iframe, #roadmap [onerror]').count(), 0);
        assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
        const links = await page.$$eval('#roadmap a', (as) => as.map((a) => [a.protocol, a.rel, a.target]));
        for (const [protocol, rel, target] of links) {
          assert.match(protocol, /^https?:$/);
          assert.equal(rel, 'noopener noreferrer');
          assert.equal(target, '_blank');
        }
        const text = await page.textContent('#roadmap');
        assert.ok(text.includes('<img src=x onerror="window.__xss=1">'), 'the markup is shown literally');
        assert.ok(text.includes('<script>window.__xss=2</script>'));
        assert.ok(text.includes('javascript:alert(1)'), 'javascript: stays plain text');
        assert.ok((await page.textContent('#phases')).includes('<img src=x'), 'phase names too');
      };
      await check();
      await p.reload();
      await waitState(page, 'done');
      await page.$$eval('details.day', (ds) => ds.forEach((d) => (d.open = true)));
      await check();
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('links in model text: no file names or product names as domains, balanced parentheses, no curly quotes, no misleading labels', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      /** Each text through render.js's richText: its text and its links as [text, href]. */
      const render = (texts) =>
        page.evaluate(async (texts) => {
          const { richText } = await import('/render.js');
          return texts.map((t) => {
            const d = document.createElement('div');
            d.append(richText(t));
            return { text: d.textContent, links: [...d.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href')]) };
          });
        }, texts);
      const cases = [
        ['Run backup.sh, then deploy.sh; load libfoo.so, learn ASP.NET and VB.NET, see about.me and logo.ai', []],
        ['Edit `kubernetes.io` and `setup.py` locally', []],
        ['Read kubernetes.io/docs and docs.docker.com.', [['kubernetes.io/docs', 'https://kubernetes.io/docs'], ['docs.docker.com', 'https://docs.docker.com/']]],
        ['Follow roadmap.sh/devops (not roadmap.sh alone)', [['roadmap.sh/devops', 'https://roadmap.sh/devops']]],
        ['See https://en.wikipedia.org/wiki/Make_(software).', [['https://en.wikipedia.org/wiki/Make_(software)', 'https://en.wikipedia.org/wiki/Make_(software)']]],
        ['(see https://example.com/a) and (https://en.wikipedia.org/wiki/Make_(software))', [
          ['https://example.com/a', 'https://example.com/a'],
          ['https://en.wikipedia.org/wiki/Make_(software)', 'https://en.wikipedia.org/wiki/Make_(software)'],
        ]],
        ['The guide “https://example.com/guide” and ‘https://example.com/x’.', [
          ['https://example.com/guide', 'https://example.com/guide'],
          ['https://example.com/x', 'https://example.com/x'],
        ]],
        ['`curl https://get.example.com/install`', [['https://get.example.com/install', 'https://get.example.com/install']]],
        ['[Make](https://en.wikipedia.org/wiki/Make_(software))', [['Make', 'https://en.wikipedia.org/wiki/Make_(software)']]],
        ['[Kubernetes docs](https://kubernetes.io/docs/) and [kubernetes.io](https://kubernetes.io/docs/)', [
          ['Kubernetes docs', 'https://kubernetes.io/docs/'],
          ['kubernetes.io', 'https://kubernetes.io/docs/'],
        ]],
        ['[https://google.com](https://evil.example/login)', [['https://evil.example/login', 'https://evil.example/login']]],
        ['[GOOGLE.COM](https://evil.example/login)', [['https://evil.example/login', 'https://evil.example/login']]],
        ['[Google.Com docs](https://google.com/docs)', [['Google.Com docs', 'https://google.com/docs']]],
        ['[Official docs at docs.python.org](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        // Dots that look like (and in a URL's host are read as) '.': ideographic, fullwidth and halfwidth ideographic full
        // stops; fullwidth letters too.
        ['[google\u3002com](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        ['[google\uFF0Ecom](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        ['[google\uFF61com](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        ['[Docs at docs\u3002python\uFF0Eorg](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        ['[\uFF47\uFF4F\uFF4F\uFF47\uFF4C\uFF45.com](https://evil.example/)', [['https://evil.example/', 'https://evil.example/']]],
        ['[docs\u3002python\u3002org](https://docs.python.org/3/)', [['docs\u3002python\u3002org', 'https://docs.python.org/3/']]],
      ];
      const out = await render(cases.map(([t]) => t));
      for (const [i, [input, links]] of cases.entries()) {
        assert.deepEqual(out[i].links, links, input);
        if (!input.startsWith('[')) assert.equal(out[i].text, input, `${input}: the text is unchanged`);
      }
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('the API key never reaches localStorage, the URL or the console; "Remember in this tab" uses sessionStorage only', async () => {
    const p = await openPage(env);
    const { page, context } = p;
    const key = 'test-key-Secret-5f1c9a7e';
    try {
      assert.equal(await page.getAttribute('#apiKey', 'type'), 'password');
      assert.equal(await page.isChecked('#rememberKey'), false);
      assert.match(await page.textContent('#key-note'), /sent only to Google/);
      await fillForm(page, { weeks: 3, key, baseUrl: env.mock.url });
      await page.click('#generate');
      await waitState(page, 'done');

      const storage = await page.evaluate(() => ({
        local: Object.entries(localStorage).flat().join('\n'),
        session: Object.entries(sessionStorage).flat().join('\n'),
        cookie: document.cookie,
        url: location.href,
        history: history.length,
      }));
      assert.ok(storage.local.length > 100, 'the roadmap was saved');
      assert.ok(!storage.local.includes(key), 'not in localStorage');
      assert.ok(!storage.session.includes(key), 'not in sessionStorage unless remembered');
      assert.ok(!storage.cookie.includes(key));
      assert.ok(!storage.url.includes(key) && !page.url().includes(key), 'not in the URL');
      assert.ok(p.consoleLines.some((l) => /Generating batch/.test(l.text)), 'the console hook saw the package log');
      assert.deepEqual(p.consoleLines.filter((l) => l.text.includes(key) || l.text.includes('Secret-5f1c')), [], 'not in the console');
      for (const r of apiRequests(await env.requests({ key }))) {
        assert.equal(r.keyInUrl, false);
        assert.equal(r.headers['x-goog-api-key'], key.length);
      }

      // Opt-in: this tab only.
      await page.check('#rememberKey');
      assert.equal(await page.evaluate(() => Object.values(sessionStorage).join('\n')).then((s) => s.includes(key)), true);
      assert.ok(!(await page.evaluate(() => Object.values(localStorage).join('\n'))).includes(key));
      await p.reload();
      assert.equal(await page.inputValue('#apiKey'), key, 'remembered for this tab');
      assert.equal(await page.isChecked('#rememberKey'), true);
      const other = await context.browser().newContext();
      const tab2 = await other.newPage();
      await tab2.goto(`${env.site}/`);
      await tab2.waitForSelector('body[data-ready="true"]');
      assert.equal(await tab2.inputValue('#apiKey'), '', 'another tab does not get it');
      await other.close();
      await page.uncheck('#rememberKey');
      assert.ok(!(await page.evaluate(() => Object.values(sessionStorage).join('\n'))).includes(key));
      await p.reload();
      assert.equal(await page.inputValue('#apiKey'), '', 'gone after unticking');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('error advice names only the buttons on screen: no Continue before the outline or for a failed "Regenerate week", no Google offline', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      // The outline is unreadable on every attempt: nothing to continue.
      await env.script('*', [{ fault: 'prose', repeat: 4 }]);
      await fillForm(page, { weeks: 2, batch: 2 });
      await page.click('#generate');
      await waitState(page, 'failed');
      assert.equal(await page.textContent('#error-code'), 'MALFORMED');
      assert.equal(await page.isVisible('#continue'), false);
      const advice = await page.textContent('#error-advice');
      assert.doesNotMatch(advice, /Continue/);
      assert.match(advice, /[Gg]enerate again/);

      // A roadmap, then a regeneration that fails with 503 on every attempt (the offline model).
      await env.script('*', [], { replace: true });
      await page.click('#generate');
      await waitState(page, 'done');
      await env.script('*', [{ fault: 'status', status: 503, repeat: 10 }]);
      await page.click('#week-1 [data-action="regenerate"]');
      await until(async () => (await logLines(page)).some((l) => /Regenerating week 1 failed/.test(l)), {
        timeout: 60_000, message: 'the regeneration to fail',
      });
      assert.equal(await page.isVisible('#continue'), false);
      const msg = await page.textContent('#week-1 .week-card__msg');
      assert.match(msg, /^SERVER: /);
      assert.doesNotMatch(msg, /Continue/);
      assert.doesNotMatch(msg, /Google/, 'the offline demo model is not Google');
      assert.match(msg, /try the week again/);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('BLOCKED advice follows the reason and what is on screen: Continue mid-run, no rephrasing for RECITATION', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      // Outline and weeks 1-3, then weeks 4-6 blocked on every attempt, for a safety reason, then for recitation.
      await env.script('*', [{}, {}, { fault: 'safety', repeat: 6 }]);
      await fillForm(page, { weeks: 6, batch: 3 });
      await page.click('#generate');
      await waitState(page, 'failed');
      assert.equal(await page.textContent('#error-code'), 'BLOCKED');
      assert.equal(await page.isVisible('#continue'), true);
      // It advised rephrasing the role and trying again, which throws the kept weeks away.
      assert.match(await page.textContent('#error-advice'), /^Press Continue to ask again — finished weeks are kept; if it is blocked again, rephrase the role/);

      await env.script('*', [{ fault: 'recitation', repeat: 6 }], { replace: true });
      await page.click('#continue');
      await waitState(page, 'failed');
      assert.match(await page.textContent('#error-title'), /RECITATION/);
      const advice = await page.textContent('#error-advice');
      assert.doesNotMatch(advice, /[Rr]ephrase/);
      assert.match(advice, /published text.*press Continue — finished weeks are kept/);
      assert.match(advice, /too closely, which the demo model does not return\./, 'not "which The demo model"');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('served without the offline model (no mockUrl), the key field says a key is required', async () => {
    const { server, url } = await startServer({ port: 0 });
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.match(await page.textContent('#backend-label'), /No offline model on this server/);
      const placeholder = await page.getAttribute('#apiKey', 'placeholder');
      assert.doesNotMatch(placeholder, /offline demo|Leave empty/);
      assert.match(placeholder, /required/);
      assert.equal(await page.textContent('label[for="apiKey"] .optional'), 'required');
      assert.deepEqual(errors, []);
      // A malformed escape in a path ended the server (and `npm run demo`, which stops the mock with it).
      assert.equal((await fetch(`${url}/%`)).status, 400);
      assert.equal((await fetch(`${url}/`)).status, 200, 'the server still answers');
    } finally {
      await context.close();
      await new Promise((ok) => server.close(ok));
      server.closeAllConnections?.();
    }
  });

  test('inputs are validated next to their fields, and INVALID_INPUT from the package lands on the field it names', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await page.fill('#role', '   ');
      await page.fill('#weeks', '60');
      await page.fill('#hours', '20');
      await page.fill('#batch', '0');
      await page.click('#generate');
      for (const id of ['role', 'weeks', 'hours', 'batch']) {
        assert.equal(await page.isVisible(`#${id}-error`), true, `${id} error shown`);
        assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true');
        assert.ok((await page.getAttribute(`#${id}`, 'aria-describedby')).split(' ').includes(`${id}-error`));
      }
      assert.match(await page.textContent('#weeks-error'), /1 to 52/);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'role', 'focus on the first invalid field');
      assert.equal(await page.getAttribute('body', 'data-state'), 'idle');

      // Editing a field clears its error.
      await page.fill('#role', 'Data Engineer');
      assert.equal(await page.isVisible('#role-error'), false);
      assert.equal(await page.getAttribute('#role', 'aria-invalid'), null);
      await page.fill('#weeks', '4');
      await page.fill('#hours', '1.5');
      await page.fill('#batch', '2');

      // Below the field's min (0.5 h): refused next to the field, not sent (it showed as "1e-7 h/day").
      for (const tiny of ['0.001', '1e-7', '0.25']) {
        await page.fill('#hours', tiny);
        await page.click('#generate');
        assert.equal(await page.getAttribute('#hours', 'aria-invalid'), 'true', `${tiny} h/day is refused`);
        assert.match(await page.textContent('#hours-error'), /0\.5 to 16/);
        assert.equal(await page.evaluate(() => document.activeElement.id), 'hours');
        assert.equal(await page.getAttribute('body', 'data-state'), 'idle');
      }
      await page.fill('#hours', '0.5');
      assert.equal(await page.isVisible('#hours-error'), false);

      // A bad base URL is caught by the page, inside the (then opened) Advanced section.
      await page.fill('#apiKey', 'a-valid-looking-key');
      await page.click('.advanced summary');
      await page.fill('#baseUrl', 'ftp://example.com');
      await page.click('.advanced summary'); // close it again
      await page.click('#generate');
      assert.equal(await page.isVisible('#baseUrl-error'), true);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'baseUrl');
      // A password without a user name was let through, for fetch to refuse (found by review).
      await page.fill('#baseUrl', env.mock.url.replace('http://', 'http://:pw@'));
      await page.click('#generate');
      assert.match(await page.textContent('#baseUrl-error'), /credentials/);
      // An address the page's Content-Security-Policy blocks is named as such: it failed as NETWORK, blaming the
      // connection and Google, and logged CSP violations.
      await page.fill('#baseUrl', env.mock.url.replace('127.0.0.1', 'localhost'));
      await page.click('#generate');
      assert.match(await page.textContent('#baseUrl-error'), /may connect only to Google’s address, to http:\/\/127\.0\.0\.1/);
      assert.equal(await page.isVisible('#error-box'), false);

      // A key that cannot be sent in a header is rejected by the package (INVALID_INPUT, field apiKey).
      await page.fill('#baseUrl', env.mock.url);
      await page.fill('#apiKey', 'key-with-ümlaut-123');
      await page.click('#generate');
      await page.waitForSelector('#apiKey-error:not([hidden])');
      assert.match(await page.textContent('#apiKey-error'), /cannot be sent in a header/);
      assert.equal(await page.getAttribute('#apiKey', 'aria-invalid'), 'true');
      assert.equal(await page.isVisible('#error-box'), false);

      assert.deepEqual(await env.requests(), [], 'nothing was sent');

      // With a roadmap on screen, a rejected option leaves it there untouched.
      await page.fill('#apiKey', '');
      await page.fill('#weeks', '1');
      await page.click('#generate');
      await waitState(page, 'done');
      const sent = (await env.requests()).length;
      await page.fill('#apiKey', 'key-with-ümlaut-123');
      await page.click('#generate');
      await page.waitForSelector('#apiKey-error:not([hidden])');
      assert.equal(await page.getAttribute('body', 'data-state'), 'done');
      assert.deepEqual(await weekNumbers(page), [1]);
      assert.match(await page.textContent('#status-title'), /Nothing was sent/);
      assert.equal((await env.requests()).length, sent);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('text a number field cannot read ("2e", "-", "3e", "--2") is refused next to Hours or Batch size, as out-of-range values are; nothing is sent', async () => {
    const p = await openPage(env);
    const { page } = p;
    try {
      await fillForm(page, { weeks: 2, batch: 2 });
      // The input then holds validity.badInput and reads as "" (as if left empty): the run went out without hours, or
      // with the default batch size, and no error was shown. Weeks already refused "4e".
      const cases = [['hours', '2e', /0\.5 to 16/], ['hours', '-', /0\.5 to 16/], ['batch', '3e', /1 to 52/], ['batch', '--2', /1 to 52/], ['weeks', '4e', /1 to 52/]];
      for (const [id, text, message] of cases) {
        await page.fill('#hours', '2');
        await page.fill('#batch', '2');
        await page.fill('#weeks', '2');
        await page.fill(`#${id}`, '');
        await page.click(`#${id}`);
        await page.keyboard.type(text); // fill() refuses such text in a number input
        assert.deepEqual(await page.$eval(`#${id}`, (e) => [e.value, e.validity.badInput]), ['', true], `${id} ${text} is unreadable`);
        await page.click('#generate');
        assert.equal(await page.isVisible(`#${id}-error`), true, `${id} ${text}: error shown`);
        assert.match(await page.textContent(`#${id}-error`), message);
        assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true');
        assert.equal(await page.evaluate(() => document.activeElement.id), id);
        assert.equal(await page.getAttribute('body', 'data-state'), 'idle', `${id} ${text}: nothing started`);
      }
      assert.deepEqual(await env.requests(), [], 'nothing was sent');
      p.assertClean();
    } finally {
      await p.close();
    }
  });
});
