// Takes docs/ui.png: opens the status page of a running bridge in headless
// Chromium, lets its rate chart fill for --seconds, and saves a screenshot.
// Driven by scripts/ui-screenshot.sh, which starts the bridge and its load.
//   node ui-screenshot.mjs <http://host:port/ui> <out.png> [seconds]
import { chromium } from 'playwright-core';

const [url, out, seconds = '45'] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: node ui-screenshot.mjs <url> <out.png> [seconds]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(url);
  await page.waitForTimeout(Number(seconds) * 1000);
  await page.screenshot({ path: out, fullPage: true });
  console.error(`ui-screenshot: ${out}`);
} finally {
  await browser.close();
}
