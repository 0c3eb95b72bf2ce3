// Real headless Chromium against the real ssebridge binary: the SDK in a
// page, events published over gRPC by a backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  Backend,
  Bridge,
  Redis,
  launchBrowser,
  metric,
  startBridge,
  startPageServer,
  startRedis,
  waitReady,
  waitFor,
} from './harness.js';

let browser: Browser;
let pages: { base: string; close(): Promise<void> };
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer();
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await pages?.close();
  await browser?.close();
});

async function openPage(context?: BrowserContext, backend?: Backend): Promise<Page> {
  const ctx = context ?? (await browser.newContext());
  if (!context) cleanup.push(() => ctx.close());
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  if (backend) {
    await page.exposeFunction('issueTicket', (user: string, channels: string[]) =>
      backend.issueTicket(user, channels),
    );
  }
  await page.goto(pages.base + '/');
  await page.waitForFunction(() => (window as any).t !== undefined);
  return page;
}

async function bridgeWithBackend(flags: string[] = [], ports = {}) {
  const bridge = await startBridge(['--cors_origins=*', ...flags], ports);
  await waitReady(bridge);
  const backend = new Backend(`127.0.0.1:${bridge.grpcPort}`);
  return { bridge, backend };
}

const events = (page: Page, type?: string) => page.evaluate((ty) => (window as any).t.events(ty), type);

describe('the SDK in Chromium against the bridge', () => {
  it('subscribes to two channels on one connection and shows events published over gRPC', async () => {
    const { bridge, backend } = await bridgeWithBackend();
    cleanup.push(() => bridge.stop(), () => backend.close());
    const page = await openPage();
    await page.evaluate(
      (url) => (window as any).t.subscribe({ url, channels: ['orders', 'dash'], types: ['orderDone', 'stats'] }),
      bridge.base + '/v1/events',
    );
    await waitFor('the stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
    await backend.publish({ channel: 'orders', event: 'orderDone', data: '{"order":42}' });
    await backend.publishStream([
      { channel: 'dash', event: 'stats', data: '{"value":7}' },
      { channel: 'dash', data: '{"plain":true}' },
    ]);
    await waitFor('three events', async () => (await events(page)).length === 3);
    expect(await events(page)).toEqual([{ order: 42 }, { value: 7 }, { plain: true }]);
    expect(await page.locator('#events li').first().textContent()).toBe('orderDone {"order":42}');
    expect(await page.evaluate(() => (window as any).t.opened())).toBe(1);
    expect(await page.evaluate(() => (window as any).t.statuses())).toEqual(['connecting', 'open']);
    await bridge.stop();
  });

  it('reports a payload that is not JSON to onError and keeps going', async () => {
    const { bridge, backend } = await bridgeWithBackend();
    cleanup.push(() => bridge.stop(), () => backend.close());
    const page = await openPage();
    await page.evaluate((url) => (window as any).t.subscribe({ url, channels: ['c'] }), bridge.base + '/v1/events');
    await waitFor('the stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
    await backend.publish({ channel: 'c', data: 'not json' });
    await backend.publish({ channel: 'c', data: '{"ok":1}' });
    await waitFor('the good event', async () => (await events(page)).length === 1);
    expect(await events(page)).toEqual([{ ok: 1 }]);
    const errors: string[] = await page.evaluate(() => (window as any).t.errors());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^ParseError: event 'message'.*not JSON/);
    await bridge.stop();
  });

  it('resumes with no loss and no duplicate when the bridge restarts mid-stream (Redis broker)', async () => {
    const redis: Redis = await startRedis();
    cleanup.push(() => redis.stop());
    // The retry must outlast the restart below, so the pages come back only
    // after 4-6 are published (1.5 s was once too short on a loaded box).
    const flags = ['--broker=redis', `--redis_url=${redis.url}`, '--retry=3000ms', '--retry_jitter=0s'];
    const first = await bridgeWithBackend(flags);
    cleanup.push(() => first.bridge.stop(), () => first.backend.close());
    const url = first.bridge.base + '/v1/events';
    // Both pages resume through the SDK's reconnect (lastEventId); the
    // plain one waits the bridge's retry hint first, the other uses tickets.
    const plain = await openPage();
    const ticketed = await openPage(undefined, first.backend);
    for (const page of [plain, ticketed]) {
      // The SDK's own reconnect (ticketed page) waits 3-6 s, for the same
      // reason as --retry above; the test pages' default starts at 100 ms.
      await page.evaluate(
        ([url, user]) =>
          (window as any).t.subscribe({
            url, channels: ['orders', 'dash'], types: ['orderDone'], ticketUser: user,
            backoff: user ? { initialMs: 6000, maxMs: 6000 } : undefined,
          }),
        [url, page === ticketed ? 'carol' : undefined],
      );
    }
    await waitFor('two streams', async () => (await metric(first.bridge, 'ssebridge_streams')) === 2);
    for (let n = 1; n <= 3; n++) {
      await first.backend.publish({ channel: n % 2 ? 'orders' : 'dash', event: 'orderDone', data: `{"n":${n}}` });
    }
    for (const page of [plain, ticketed]) {
      await waitFor('events 1-3', async () => (await events(page)).length === 3);
    }
    // Restart on the same ports; publish 4-6 before the pages are back.
    expect(await first.bridge.stop()).toBe(0);
    const second = await bridgeWithBackend(flags, {
      http: first.bridge.httpPort,
      grpc: first.bridge.grpcPort,
    });
    cleanup.push(() => second.bridge.stop(), () => second.backend.close());
    expect(await metric(second.bridge, 'ssebridge_streams')).toBe(0);
    for (let n = 4; n <= 6; n++) {
      await second.backend.publish({ channel: n % 2 ? 'orders' : 'dash', event: 'orderDone', data: `{"n":${n}}` });
    }
    for (const page of [plain, ticketed]) {
      await waitFor('events 1-6', async () => (await events(page)).length >= 6, 20_000);
      expect(await events(page)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
      expect(await page.evaluate(() => (window as any).t.resets())).toEqual([]);
    }
    await second.backend.publish({ channel: 'orders', event: 'orderDone', data: '{"n":7}' });
    for (const page of [plain, ticketed]) {
      await waitFor('event 7', async () => (await events(page)).length === 7);
    }
    expect(await plain.evaluate(() => (window as any).t.statuses())).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    // The SDK reconnects itself (fetch), resuming with lastEventId; the
    // ticketed page with a fresh ticket.
    expect(await plain.evaluate(() => (window as any).t.opened())).toBeGreaterThanOrEqual(2);
    expect(await ticketed.evaluate(() => (window as any).t.opened())).toBeGreaterThanOrEqual(2);
    await second.bridge.stop();
  });

  it('gets onReset when a restarted memory broker cannot resume', async () => {
    const first = await bridgeWithBackend(['--retry=300ms', '--retry_jitter=0s']);
    cleanup.push(() => first.bridge.stop(), () => first.backend.close());
    const page = await openPage();
    await page.evaluate((url) => (window as any).t.subscribe({ url, channels: ['c'] }), first.bridge.base + '/v1/events');
    await waitFor('the stream', async () => (await metric(first.bridge, 'ssebridge_streams')) === 1);
    await first.backend.publish({ channel: 'c', data: '{"n":1}' });
    await waitFor('event 1', async () => (await events(page)).length === 1);
    await first.bridge.stop();
    const second = await bridgeWithBackend([], { http: first.bridge.httpPort, grpc: first.bridge.grpcPort });
    cleanup.push(() => second.bridge.stop(), () => second.backend.close());
    const resets = await waitFor('a reset', async () => {
      const r = await page.evaluate(() => (window as any).t.resets());
      return r.length ? r : null;
    });
    expect(resets[0].reason).toMatch(/epoch/);
    await second.bridge.stop();
  });

  it('delivers a targeted event only to the right user', async () => {
    const { bridge, backend } = await bridgeWithBackend();
    cleanup.push(() => bridge.stop(), () => backend.close());
    const alice = await openPage(undefined, backend);
    const bob = await openPage(undefined, backend);
    for (const [page, user] of [[alice, 'alice'], [bob, 'bob']] as const) {
      await page.evaluate(
        ([url, user]) => (window as any).t.subscribe({ url, channels: ['tasks'], types: ['taskDone'], ticketUser: user }),
        [bridge.base + '/v1/events', user],
      );
    }
    await waitFor('two streams', async () => (await metric(bridge, 'ssebridge_streams')) === 2);
    const res = await backend.publish({ channel: 'tasks', event: 'taskDone', data: '{"for":"alice"}', user_ids: ['alice'] });
    expect(res.subscribers).toBe(1);
    await backend.publish({ channel: 'tasks', event: 'taskDone', data: '{"for":"bob"}', user_ids: ['bob'] });
    await backend.publish({ channel: 'tasks', event: 'taskDone', data: '{"for":"everyone"}' });
    await waitFor('alice: 2 events', async () => (await events(alice)).length === 2);
    await waitFor('bob: 2 events', async () => (await events(bob)).length === 2);
    expect(await events(alice)).toEqual([{ for: 'alice' }, { for: 'everyone' }]);
    expect(await events(bob)).toEqual([{ for: 'bob' }, { for: 'everyone' }]);
    await bridge.stop();
  });

  it('runs many React hooks on one connection', async () => {
    const { bridge, backend } = await bridgeWithBackend();
    cleanup.push(() => bridge.stop(), () => backend.close());
    await backend.publish({ channel: 'dash', event: 'stats', data: '{"value":1}', retain: true });
    const page = await openPage();
    await page.evaluate((url) => (window as any).t.renderReact(url, 5), bridge.base + '/v1/events');
    // Retained: the figure is there at once, in every hook.
    await waitFor('retained value in all hooks', async () =>
      (await page.locator('[id^=stat-]').allTextContents()).every((s) => s === 'open 1'),
    );
    await backend.publish({ channel: 'tasks', event: 'taskDone', data: '{"id":9}' });
    await backend.publish({ channel: 'dash', event: 'stats', data: '{"value":2}', retain: true });
    await waitFor('task', async () => (await page.locator('#task').textContent()) === 'open 9');
    await waitFor('stats 2', async () =>
      (await page.locator('[id^=stat-]').allTextContents()).every((s) => s === 'open 2'),
    );
    expect(await page.locator('[id^=stat-]').count()).toBe(5);
    expect(await page.evaluate(() => (window as any).t.opened())).toBe(1);
    expect(await metric(bridge, 'ssebridge_streams')).toBe(1);
    await bridge.stop();
  });
});
