// Cross-tab sharing in Chromium: several pages of one origin, one connection
// to the bridge, and a hand-over without loss when the leader tab closes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Backend, launchBrowser, metric, startBridge, startPageServer, waitFor, waitReady } from './harness.js';

let browser: Browser;
let pages: { base: string; close(): Promise<void> };

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer();
});
afterAll(async () => {
  await pages?.close();
  await browser?.close();
});

const events = (page: Page) => page.evaluate(() => (window as any).t.events());
const isLeader = (page: Page) => page.evaluate(() => (window as any).t.isLeader());

describe('cross-tab sharing', () => {
  it('shares one connection between tabs and survives the leader closing', async () => {
    const bridge = await startBridge(['--cors_origins=*']);
    await waitReady(bridge);
    const backend = new Backend(`127.0.0.1:${bridge.grpcPort}`);
    try {
      const context = await browser.newContext();
      const tabs: Page[] = [];
      for (let i = 0; i < 4; i++) {
        const page = await context.newPage();
        await page.goto(pages.base + '/');
        await page.waitForFunction(() => (window as any).t !== undefined);
        await page.evaluate(
          (url) =>
            (window as any).t.subscribe({
              url,
              channels: ['tasks', 'dash'],
              types: ['stats'],
              share: { key: 'alice', replayLatest: ['stats'] },
            }),
          bridge.base + '/v1/events',
        );
        tabs.push(page);
      }
      await waitFor('one stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
      await backend.publish({ channel: 'tasks', data: '{"n":1}' });
      await backend.publish({ channel: 'dash', event: 'stats', data: '{"n":2}' });
      for (const tab of tabs) await waitFor('events 1-2 in every tab', async () => (await events(tab)).length === 2);
      const leaders = [];
      for (const tab of tabs) leaders.push(await isLeader(tab));
      expect(leaders.filter(Boolean)).toHaveLength(1);
      const opened = await Promise.all(tabs.map((t) => t.evaluate(() => (window as any).t.opened())));
      expect(opened.reduce((a, b) => a + b, 0)).toBe(1);

      // A tab that joins later gets the latest dashboard figure from the leader at once.
      const late = await context.newPage();
      await late.goto(pages.base + '/');
      await late.waitForFunction(() => (window as any).t !== undefined);
      await late.evaluate(
        (url) =>
          (window as any).t.subscribe({
            url,
            channels: ['tasks', 'dash'],
            types: ['stats'],
            share: { key: 'alice', replayLatest: ['stats'] },
          }),
        bridge.base + '/v1/events',
      );
      await waitFor('replayed figure', async () => (await events(late)).length === 1);
      expect(await events(late)).toEqual([{ n: 2 }]);
      tabs.push(late);

      // Close the leader; publish while nobody holds the connection.
      const leader = tabs[leaders.indexOf(true)];
      await leader.close();
      const rest = tabs.filter((t) => t !== leader);
      await backend.publish({ channel: 'tasks', data: '{"n":3}' });
      await backend.publish({ channel: 'tasks', data: '{"n":4}' });
      for (const tab of rest.slice(0, -1)) {
        await waitFor('events 1-4 after hand-over', async () => (await events(tab)).length === 4);
        expect(await events(tab)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      }
      await waitFor('late tab: 2-4', async () => (await events(late)).length === 3);
      expect(await events(late)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
      const newLeaders = await Promise.all(rest.map(isLeader));
      expect(newLeaders.filter(Boolean)).toHaveLength(1);
      await waitFor('one stream again', async () => (await metric(bridge, 'ssebridge_streams')) === 1);

      // Another key (another user) does not join alice's connection.
      const other = await context.newPage();
      await other.goto(pages.base + '/');
      await other.waitForFunction(() => (window as any).t !== undefined);
      await other.evaluate(
        (url) => (window as any).t.subscribe({ url, channels: ['tasks', 'dash'], types: ['stats'], share: { key: 'bob' } }),
        bridge.base + '/v1/events',
      );
      await waitFor('two streams', async () => (await metric(bridge, 'ssebridge_streams')) === 2);
      await context.close();
    } finally {
      backend.close();
      await bridge.stop();
    }
  });
});
