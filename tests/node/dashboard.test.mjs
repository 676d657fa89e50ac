// The dashboard (/ui) in a real browser: Debian's Chromium driven by puppeteer-core. Run by
// the C++ dashboard test, which starts the daemon and the fake provider and sets GATEWAY_URL,
// GATEWAY_KEY, FAKE_PROVIDER_URL, CHROMIUM_PATH and OUT_DIR (tests/integration/dashboard_test.cpp).
// Tests run in file order and share one browser; later ones use the page opened by test 2.
// No waitForFunction/waitForSelector: they compile with new Function, which the page's CSP
// (no 'unsafe-eval') refuses; DOM reads go through page.evaluate and waitFor below.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const GW = process.env.GATEWAY_URL;
const KEY = process.env.GATEWAY_KEY;
const FAKE = process.env.FAKE_PROVIDER_URL;
const OUT = process.env.OUT_DIR;
const ORIGIN = new URL(GW).origin;

const script = (key, steps) =>
  fetch(`${FAKE}/__script`, { method: 'POST', body: JSON.stringify({ key, steps }) });
const calls = async () => (await fetch(`${FAKE}/__calls`)).json();
const api = (path, key = KEY) =>
  fetch(`${GW}${path}`, key === null ? {} : { headers: { authorization: `Bearer ${key}` } });
const turn = (content, ms = 15000) => fetch(`${GW}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'demo-model', messages: [{ role: 'user', content }] }),
  signal: AbortSignal.timeout(ms),
});
const USAGE = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };  // $0.007
const BILLING = { status: 402, body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } } };
const todayUtc = () => new Date().toISOString().slice(0, 10);
const todayMidnight = () => Math.floor(Date.now() / 86400000) * 86400;

// Polls fn every 50 ms until it returns something truthy (returned); throws naming `what`
// (a string, or a function giving one, to report what was last seen) on timeout.
async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let failure = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) { failure = error; }
    if (Date.now() >= end) {
      const name = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${ms} ms waiting for ${name}${failure ? ` (last error: ${failure.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Shown: no [hidden] on it or an ancestor, and laid out (display is not none).
const visible = (page, selector) => page.evaluate((s) => {
  const el = document.querySelector(s);
  return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
}, selector);
const count = (page, selector) => page.evaluate((s) => document.querySelectorAll(s).length, selector);
// The whole page has rendered: content shown, the gateway serving, the chart drawn.
const rendered = (page) => page.evaluate(() => {
  const content = document.getElementById('content');
  return !!content && !content.closest('[hidden]') && content.getClientRects().length > 0 &&
    document.getElementById('gateway-state')?.textContent.trim() === 'serving' &&
    !!document.querySelector('#spend-chart .uplot');
});
async function submitKey(page, key) {
  await waitFor(() => visible(page, '#key-input'), 10000, '#key-input to show');
  await page.type('#key-input', key);
  await page.$eval('#key-form', (form) => form.requestSubmit());
}

let browser, page;
const consoleErrors = [], pageErrors = [], requests = [];
const results = {};

before(async () => {
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => { await browser?.close(); });

test('asks for the key and shows nothing without it', { timeout: 20000 }, async () => {
  const head = await fetch(`${GW}/ui`);
  assert.equal(head.status, 200);
  await head.arrayBuffer();
  const csp = head.headers.get('content-security-policy') ?? '';
  assert.ok(csp.includes("connect-src 'self'"), `CSP: ${csp}`);
  assert.ok(csp.includes("frame-ancestors 'none'"), `CSP: ${csp}`);
  assert.equal(head.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(head.headers.get('referrer-policy'), 'no-referrer');

  for (const path of ['/ui/api/overview', '/ui/api/spend', '/ui/api/sessions']) {
    for (const key of [null, 'not-the-key']) {
      const response = await api(path, key);
      assert.equal(response.status, 401, `${path} with ${key ? 'a wrong' : 'no'} bearer`);
      const body = await response.json();
      assert.equal(typeof body.error?.message, 'string', `${path}: 401 body ${JSON.stringify(body)}`);
    }
  }

  const context = await browser.createBrowserContext();
  try {
    const p = await context.newPage();
    await p.goto(`${GW}/ui`);
    await waitFor(() => visible(p, '#key-form'), 10000, '#key-form to show');
    assert.equal(await visible(p, '#content'), false, '#content is hidden');
    const data = await p.evaluate(() => ({
      tables: [...document.querySelectorAll('table')].filter((t) => !t.closest('[hidden]') && t.getClientRects().length > 0).length,
      rows: document.querySelectorAll('tr[data-day], tr[data-run-id], tr[data-session-id], tr[data-provider], tr[data-job-id]').length,
    }));
    assert.deepEqual(data, { tables: 0, rows: 0 }, 'no data shown without the key');

    await submitKey(p, 'not-the-key');
    await waitFor(() => visible(p, '#key-error'), 10000, '#key-error after a wrong key');
    assert.equal(await visible(p, '#content'), false, '#content stays hidden after a wrong key');
    assert.equal(await p.evaluate(() => sessionStorage.getItem('hermes.key')), null, 'a refused key is not kept');
  } finally {
    await context.close();
  }
});

test('a page opened with the key renders; time to first full render', { timeout: 20000 }, async () => {
  const context = await browser.createBrowserContext();
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} @ ${message.location()?.url ?? ''}`);
  });
  page.on('pageerror', (error) => pageErrors.push(String(error?.message ?? error)));
  page.on('request', (request) => requests.push(request.url()));

  // Includes loading /ui, the /ui/auth answer showing the form, and typing the key.
  const t0 = performance.now();
  await page.goto(`${GW}/ui`);
  await submitKey(page, KEY);
  await waitFor(() => rendered(page), 10000, 'the first full render (content, "serving", chart)');
  results.first_render_ms = Math.round(performance.now() - t0);

  const t1 = performance.now();  // sessionStorage keeps the key over a reload
  await page.reload();
  await waitFor(() => rendered(page), 10000, 'the full render after a reload');
  results.reload_render_ms = Math.round(performance.now() - t1);
  assert.equal(await visible(page, '#key-form'), false, 'no key form after a reload with a stored key');

  // Uncompressed sizes of the document and each asset it loaded, fetched again node-side.
  const paths = ['/ui', ...new Set(requests.map((u) => new URL(u)).filter((u) => u.origin === ORIGIN &&
    u.pathname.startsWith('/ui/assets/')).map((u) => u.pathname))];
  results.assets = {};
  for (const path of paths) {
    const response = await fetch(`${GW}${path}`);
    assert.equal(response.status, 200, path);
    results.assets[path] = (await response.arrayBuffer()).byteLength;
  }
  results.page_bytes = Object.values(results.assets).reduce((a, b) => a + b, 0);
  assert.ok(paths.includes('/ui/assets/app.js') && paths.includes('/ui/assets/uplot.js'), `assets loaded: ${paths}`);
});

test("spend chart shows today's cost", { timeout: 20000 }, async () => {
  // Normally 0 (a fresh daemon); counted so that earlier spend of the day does not matter.
  const spend = await (await api('/ui/api/spend?days=30')).json();
  const base = spend.days.find((d) => d.day === todayUtc())?.cost_usd ?? 0;
  const expected = base + 3 * 0.007;

  await script('*', [{ usage: USAGE }, { usage: USAGE }, { usage: USAGE }]);
  for (let i = 1; i <= 3; i++) {
    const response = await turn(`spend ${i}`);
    const text = await response.text();
    assert.equal(response.status, 200, `turn ${i}: ${text}`);
  }

  let seen = null;
  await waitFor(async () => {
    seen = await page.evaluate((day) => {
      const cell = document.querySelector(`#spend-days tr[data-day="${day}"] td.cost`);
      const chart = document.getElementById('spend-chart')?.chart;
      return {
        usd: cell ? Number(cell.getAttribute('data-usd')) : null,
        x: chart?.data?.[0]?.at(-1) ?? null,
        y: chart?.data?.[1]?.at(-1) ?? null,
      };
    }, todayUtc());
    return seen.usd !== null && Math.abs(seen.usd - expected) < 1e-9 &&
      seen.x === todayMidnight() && Math.abs(seen.y - expected) < 1e-9;
  }, 15000, () => `today's cost ${expected} at x=${todayMidnight()} (seen ${JSON.stringify(seen)})`);

  // The turns' sessions are listed (the newest first) and one opens read-only.
  await waitFor(() => page.evaluate(() => {
    const first = document.querySelector('#sessions tr[data-session-id] button.open');
    return first && first.textContent === 'spend 3';
  }), 15000, 'the newest session, "spend 3", first in the list');
  await page.click('#sessions tr[data-session-id] button.open');
  await waitFor(() => page.evaluate(() => {
    const t = document.getElementById('transcript');
    return !t.hidden && t.textContent.includes('spend 3') && t.textContent.includes('echo: spend 3');
  }), 5000, 'the transcript of "spend 3" with its answer');
});

test('a billing failure shows a cooldown; Clear removes it and the next turn reaches the provider', { timeout: 20000 }, async () => {
  await script('*', Array.from({ length: 10 }, () => BILLING));  // enough for both keys and retries
  const failed = await turn('this one hits the quota');
  assert.ok(failed.status >= 400, `the billing failure is reported (status ${failed.status})`);
  await failed.text();

  await waitFor(async () => await count(page, '#cooldowns tr[data-provider]') > 0 &&
    page.evaluate(() => [...document.querySelectorAll('#failures tr')].some((tr) => /billing|balance/i.test(tr.textContent))),
  10000, 'a cooldown row and a billing failure row');
  await fetch(`${FAKE}/__reset`, { method: 'POST' });  // drop the unused 402 steps

  await waitFor(() => page.$eval('#clear-cooldowns', (b) => !b.disabled), 5000, '#clear-cooldowns to be enabled');
  await page.click('#clear-cooldowns');
  await waitFor(async () => await count(page, '#cooldowns tr[data-provider]') === 0, 10000, 'the cooldown rows to go');
  const overview = await (await api('/ui/api/overview')).json();
  assert.deepEqual(overview.cooldowns, [], 'the server has no cooldowns left');

  const callsBefore = (await calls()).length;
  await script('*', [{ content: 'back in business' }]);
  const ok = await turn('after clearing');
  const text = await ok.text();
  assert.equal(ok.status, 200, text);
  assert.equal(JSON.parse(text).choices[0].message.content, 'back in business');
  assert.ok((await calls()).length > callsBefore, 'the turn reached the provider');
});

test('a running turn shows under active runs and Stop ends it within 1 s', { timeout: 20000 }, async () => {
  await script('*', [{ delay_ms: 30000 }]);
  let settledAt = null;
  const running = turn('a slow one', 18000).then(
    async (response) => { await response.text().catch(() => {}); settledAt = Date.now(); return response.status; },
    (error) => { settledAt = Date.now(); return `fetch failed: ${error.message}`; });

  await waitFor(async () => await count(page, '#runs tr[data-run-id]') > 0, 10000, 'a row under #runs');
  const t = Date.now();
  await page.click('#runs tr[data-run-id] button.stop');
  const [outcome, goneAt] = await Promise.all([
    running,
    waitFor(async () => await count(page, '#runs tr[data-run-id]') === 0, 5000, 'the run row to go').then(() => Date.now()),
  ]);
  results.stop_ms = Math.max(settledAt, goneAt) - t;
  assert.ok(settledAt - t <= 1000, `the turn's request settled ${settledAt - t} ms after Stop (${outcome})`);
  assert.ok(goneAt - t <= 1000, `the run row went ${goneAt - t} ms after Stop`);
});

test('no console errors, no other origin, and a screenshot', { timeout: 20000 }, async () => {
  await page.setViewport({ width: 1280, height: 900 });
  await page.screenshot({ path: `${OUT}/dashboard.png`, fullPage: true });
  writeFileSync(`${OUT}/dashboard-results.json`, JSON.stringify(results, null, 2));
  console.log(`RESULTS ${JSON.stringify(results)}`);

  assert.deepEqual(consoleErrors, [], `console errors:\n${consoleErrors.join('\n')}`);
  assert.deepEqual(pageErrors, [], `page errors:\n${pageErrors.join('\n')}`);
  const foreign = requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== ORIGIN);
  assert.deepEqual(foreign, [], 'every request goes to the gateway');
  assert.ok(!requests.some((u) => u.includes(KEY)), 'the key never appears in a URL');
});
