// Opens the dashboard N times in Debian's Chromium (puppeteer-core from tests/node) and keeps
// them open, polling, until SIGTERM. Prints "ready" once every one has rendered. Each is a
// window of its own (a browser context): tabs behind another are hidden, and a hidden page
// does not poll, so N windows are the worst case of N tabs.
//   node tabs.mjs URL KEY N CHROMIUM
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [url, key, count, chromium] = process.argv.slice(2);
const require = createRequire(fileURLToPath(new URL('../../tests/node/package.json', import.meta.url)));
const { default: puppeteer } = await import(require.resolve('puppeteer-core'));

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const pages = [];
for (let i = 0; i < Number(count); ++i) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.evaluateOnNewDocument((k) => sessionStorage.setItem('hermes.key', k), key);
  await page.goto(`${url}/ui`);
  pages.push(page);
}
// Rendered: the content is shown and the chart drawn (polled: the page's CSP refuses the
// eval that waitForFunction needs).
for (const page of pages) {
  for (let tries = 0; ; ++tries) {
    const done = await page.evaluate(() => !document.getElementById('content').hidden &&
      !!document.querySelector('#spend-chart .uplot'));
    if (done) break;
    if (tries > 200) throw new Error('a tab did not render in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
console.log('ready');
process.on('SIGTERM', async () => {
  await browser.close();
  process.exit(0);
});
