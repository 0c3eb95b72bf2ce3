// The live demo end to end: the bridge serves the dashboard (--static_dir),
// the demo publisher publishes over PublishStream and hands out tickets,
// and Chromium shows figures and only the signed-in user's toasts. Takes
// the README's screenshot (docs/demo.png when UPDATE_DEMO_SCREENSHOT=1).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, metric, repoRoot, startBridge, waitFor, waitReady } from './harness.js';

let browser: Browser;
let web: string;

beforeAll(async () => {
  browser = await launchBrowser();
  web = mkdtempSync(path.join(os.tmpdir(), 'ssebridge-demo-web-'));
  execFileSync(path.join(repoRoot, 'clients/js/scripts/demo-web.sh'), [web], { stdio: 'ignore' });
});
afterAll(async () => {
  await browser?.close();
  if (web) rmSync(web, { recursive: true, force: true });
});

function publisherBinary(): string {
  const bin =
    process.env.SSEBRIDGE_DEMO_PUBLISHER ?? path.join(repoRoot, 'build/release/ssebridge_demo_publisher');
  if (!existsSync(bin)) throw new Error(`demo publisher not found at ${bin} (set SSEBRIDGE_DEMO_PUBLISHER)`);
  return bin;
}

async function startPublisher(grpcPort: number, log?: string[]) {
  const proc = spawn(
    publisherBinary(),
    [`--target=127.0.0.1:${grpcPort}`, '--ticket_port=0', '--interval=250ms'],
    { stdio: ['ignore', 'pipe', log ? 'pipe' : 'inherit'] },
  );
  proc.stderr?.on('data', (c: Buffer) => log?.push(c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = buf.match(/\{"msg":"tickets","port":(\d+)\}/);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`demo publisher exited (${code})`)));
  });
  return { port, stop: () => proc.kill('SIGTERM') };
}

const toastUsers = (page: Page) =>
  page.locator('.toast').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.user));

describe('the live demo', () => {
  it('shows retained figures at once and toasts for the signed-in user only', async () => {
    const bridge = await startBridge([`--static_dir=${web}`]);
    await waitReady(bridge);
    const publisher = await startPublisher(bridge.grpcPort);
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
      const page = await context.newPage();
      const url = `${bridge.base}/?tickets=http://127.0.0.1:${publisher.port}/ticket&user=alice`;
      await page.goto(url);
      await waitFor('figures', async () => (await page.locator('#ordersToday').textContent()) !== '–');
      await waitFor('status open', async () => (await page.locator('#status').textContent()) === 'open');
      await waitFor('a toast for alice', async () => (await toastUsers(page)).length >= 1, 20_000);
      expect(new Set(await toastUsers(page))).toEqual(new Set(['alice']));

      // Switch to bob: from then on only bob's toasts.
      await page.click('button[data-user=bob]');
      await waitFor('a toast for bob', async () => (await toastUsers(page)).length >= 1, 20_000);
      await new Promise((r) => setTimeout(r, 1500)); // alice's next task falls in here
      expect(new Set(await toastUsers(page))).toEqual(new Set(['bob']));

      // A second tab of bob's shares the first tab's connection and shows
      // the figures at once.
      const second = await context.newPage();
      await second.goto(`${bridge.base}/?tickets=http://127.0.0.1:${publisher.port}/ticket&user=bob`);
      await waitFor('figures in tab 2', async () => (await second.locator('#ordersToday').textContent()) !== '–', 5_000);
      await waitFor('one stream for two tabs', async () => (await metric(bridge, 'ssebridge_streams')) === 1);

      const out = process.env.UPDATE_DEMO_SCREENSHOT
        ? path.join(repoRoot, 'docs/demo.png')
        : path.join(os.tmpdir(), 'ssebridge-demo.png');
      await page.screenshot({ path: out });
      await context.close();
    } finally {
      publisher.stop();
      await bridge.stop();
    }
  });

  it('fits 375 px, shows a frozen bridge as stale, and recovers from a bridge restart unattended', async () => {
    const flags = [`--static_dir=${web}`, '--heartbeat=1s'];
    const first = await startBridge(flags);
    await waitReady(first);
    const publisherLog: string[] = [];
    const publisher = await startPublisher(first.grpcPort, publisherLog);
    let second: Awaited<ReturnType<typeof startBridge>> | undefined;
    try {
      const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
      const page = await context.newPage();
      await page.goto(`${first.base}/?tickets=http://127.0.0.1:${publisher.port}/ticket&user=alice`);
      await waitFor('figures', async () => (await page.locator('#ordersToday').textContent()) !== '–');
      await waitFor('status open', async () => (await page.locator('#status').textContent()) === 'open');
      // Nothing cut off: no horizontal scrolling, every card inside the viewport.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      for (const box of await page.locator('.card').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right))) {
        expect(box).toBeLessThanOrEqual(375);
      }
      expect(await page.locator('.hint').textContent()).toMatch(/second tab/);

      // Frozen: the page says so in words, and greys the figures.
      first.proc.kill('SIGSTOP');
      try {
        await waitFor('stale', async () => (await page.locator('#status').textContent()) === 'stale', 10_000);
        expect(await page.locator('#log').textContent()).toMatch(/out of date/);
        expect(await page.evaluate(() => document.body.classList.contains('live'))).toBe(false);
      } finally {
        first.proc.kill('SIGCONT');
      }
      await waitFor('open after SIGCONT', async () => (await page.locator('#status').textContent()) === 'open', 20_000);

      // Restarted on the same ports: the publisher reconnects by itself and
      // the page is live again within 10 s of the bridge being back.
      const before = await page.locator('#updated').textContent();
      expect(await first.stop()).toBe(0);
      second = await startBridge(flags, { http: first.httpPort, grpc: first.grpcPort });
      await waitReady(second);
      const back = Date.now();
      await waitFor('live again', async () =>
        (await page.locator('#status').textContent()) === 'open' &&
        (await page.locator('#updated').textContent()) !== before &&
        (await page.locator('#ordersToday').textContent()) !== '–',
        10_000,
      );
      console.log(`demo live again ${Date.now() - back} ms after the bridge was back`);
      expect(publisherLog.join('')).toMatch(/reconnecting in/);
      await context.close();
    } finally {
      publisher.stop();
      await first.stop();
      await second?.stop();
    }
  });
});
