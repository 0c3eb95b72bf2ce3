// The SDK 1.0 acceptance tests (issue 15), in headless Chromium against the
// real bridge: channels end to end, channel changes without resets, a
// forbidden channel failing only its own hooks, a frozen bridge seen as
// stale, and no replay from before the subscription on the ticket path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  Backend,
  launchBrowser,
  metric,
  startBridge,
  startPageServer,
  waitFor,
  waitReady,
} from './harness.js';

let browser: Browser;
let pages: { base: string; close(): Promise<void> };
let tmp: string;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ssebridge-sdk-'));
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await pages?.close();
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function openPage(backend?: Backend): Promise<Page> {
  const ctx = await browser.newContext();
  cleanup.push(() => ctx.close());
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

async function bridgeWithBackend(flags: string[] = [], ports = {}, key?: string) {
  const bridge = await startBridge(['--cors_origins=*', ...flags], ports);
  await waitReady(bridge);
  const backend = new Backend(`127.0.0.1:${bridge.grpcPort}`, key);
  cleanup.push(() => bridge.stop(), () => backend.close());
  return { bridge, backend };
}

type Hook = { id: string; channel: string; type: string };
const hook = (page: Page, id: string) => page.evaluate((id) => (window as any).t.hook(id), id);
const render = (page: Page, opts: object, hooks: Hook[]) =>
  page.evaluate(([opts, hooks]) => (window as any).t.renderHooks(opts, hooks), [opts, hooks] as const);
const setHooks = (page: Page, hooks: Hook[]) =>
  page.evaluate((hooks) => (window as any).t.setHooks(hooks), hooks);
const hookEvents = async (page: Page, id: string) => ((await hook(page, id))?.events ?? []).map((e: any) => e.data);

describe('SDK 1.0 in Chromium against the bridge', () => {
  it('two hooks on two channels with the same event type see only their own channel', async () => {
    const first = await bridgeWithBackend(['--retry=200ms', '--retry_jitter=0s']);
    const url = first.bridge.base + '/v1/events';
    await first.backend.publish({ channel: 'orders', event: 'update', data: '{"ch":"orders","n":0}', retain: true });
    await first.backend.publish({ channel: 'invoices', event: 'update', data: '{"ch":"invoices","n":0}', retain: true });
    const page = await openPage();
    await render(page, { url }, [
      { id: 'o', channel: 'orders', type: 'update' },
      { id: 'i', channel: 'invoices', type: 'update' },
    ]);
    await waitFor('retained values', async () =>
      (await hook(page, 'o'))?.now?.data?.n === 0 && (await hook(page, 'i'))?.now?.data?.n === 0,
    );
    await waitFor('one stream', async () => (await metric(first.bridge, 'ssebridge_streams')) === 1);
    for (let n = 1; n <= 3; n++) {
      await first.backend.publish({ channel: 'orders', event: 'update', data: `{"ch":"orders","n":${n}}` });
      await first.backend.publish({ channel: 'invoices', event: 'update', data: `{"ch":"invoices","n":${n}}` });
    }
    await waitFor('three each', async () =>
      (await hookEvents(page, 'o')).length === 4 && (await hookEvents(page, 'i')).length === 4,
    );
    // A reconnect: the bridge restarts on the same ports (memory broker:
    // the pages get a reset and the retained values again).
    await first.bridge.stop();
    const second = await bridgeWithBackend(['--retry=200ms', '--retry_jitter=0s'], {
      http: first.bridge.httpPort,
      grpc: first.bridge.grpcPort,
    });
    await waitFor('reconnected', async () => (await metric(second.bridge, 'ssebridge_streams')) === 1, 20_000);
    await second.backend.publish({ channel: 'orders', event: 'update', data: '{"ch":"orders","n":4}', retain: true });
    await second.backend.publish({ channel: 'invoices', event: 'update', data: '{"ch":"invoices","n":4}', retain: true });
    await waitFor('event 4', async () =>
      (await hook(page, 'o'))?.now?.data?.n === 4 && (await hook(page, 'i'))?.now?.data?.n === 4,
    );
    // A new mount on orders starts with orders' value, never invoices'.
    await setHooks(page, [
      { id: 'o', channel: 'orders', type: 'update' },
      { id: 'i', channel: 'invoices', type: 'update' },
      { id: 'o2', channel: 'orders', type: 'update' },
    ]);
    await waitFor('new mount', async () => (await hook(page, 'o2'))?.now?.data?.n === 4);
    for (const [id, ch] of [['o', 'orders'], ['i', 'invoices'], ['o2', 'orders']]) {
      const rec = await hook(page, id);
      for (const e of rec.events) expect({ id, channel: e.channel, ch: e.data.ch }).toEqual({ id, channel: ch, ch });
      expect(rec.now.channel).toBe(ch);
      expect(rec.now.data.ch).toBe(ch);
    }
    expect((await hook(page, 'o')).statuses[0]).toBe('connecting');
  });

  it('a forbidden channel among three fails only its own hook, with 403, and is not retried', async () => {
    const secret = path.join(tmp, 'jwt-secret');
    writeFileSync(secret, 'a-test-secret-of-at-least-32-bytes-long!!');
    const publishers = path.join(tmp, 'publishers');
    const key = 'a-publisher-key-of-at-least-32-bytes-long';
    writeFileSync(publishers, `test ${key}\n`);
    const { bridge, backend } = await bridgeWithBackend(
      [`--jwt_secret_file=${secret}`, `--publisher_keys_file=${publishers}`],
      {},
      key,
    );
    const page = await openPage(backend);
    await render(page, { url: bridge.base + '/v1/events', ticketUser: 'alice', ticketChannels: ['a', 'b'] }, [
      { id: 'a', channel: 'a', type: 'message' },
      { id: 'b', channel: 'b', type: 'message' },
      { id: 'c', channel: 'c', type: 'message' },
    ]);
    await waitFor('403 on c', async () => (await hook(page, 'c'))?.now?.status === 'error');
    const c = await hook(page, 'c');
    expect(c.now.error.status).toBe(403);
    expect(c.now.error.code).toBe('permission_denied');
    expect(c.now.error.message).toMatch(/channel 'c' is not granted/);
    await waitFor('a and b open', async () =>
      (await hook(page, 'a'))?.now?.status === 'open' && (await hook(page, 'b'))?.now?.status === 'open',
    );
    await backend.publish({ channel: 'a', data: '{"n":1}' });
    await backend.publish({ channel: 'b', data: '{"n":2}' });
    await backend.publish({ channel: 'c', data: '{"n":3}' });
    await waitFor('a and b live', async () =>
      (await hookEvents(page, 'a')).length === 1 && (await hookEvents(page, 'b')).length === 1,
    );
    expect(await hookEvents(page, 'a')).toEqual([{ n: 1 }]);
    expect(await hookEvents(page, 'b')).toEqual([{ n: 2 }]);
    expect(await hookEvents(page, 'c')).toEqual([]);
    // Not retried: one request ever named c.
    await new Promise((r) => setTimeout(r, 1000));
    const urls: string[] = await page.evaluate(() => (window as any).t.streamUrls());
    expect(urls.filter((u) => u.includes('channel=c')).length).toBe(1);
    expect((await hook(page, 'c')).statuses).toEqual(['connecting', 'error']);
    expect(await page.evaluate(() => (window as any).t.errors())).toEqual([
      expect.stringMatching(/^BridgeError: HTTP 403 permission_denied: channel 'c' is not granted/),
    ]);
  });

  it('a frozen bridge (SIGSTOP) is stale within 2 x heartbeat and recovers after SIGCONT with no gap', async () => {
    const { bridge, backend } = await bridgeWithBackend(['--heartbeat=1s']);
    const page = await openPage();
    await page.evaluate((url) => (window as any).t.subscribe({ url, channels: ['c'] }), bridge.base + '/v1/events');
    await waitFor('the stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
    await backend.publish({ channel: 'c', data: '{"n":1}' });
    await waitFor('event 1', async () => (await page.evaluate(() => (window as any).t.events())).length === 1);
    const stoppedAt = Date.now();
    bridge.proc.kill('SIGSTOP');
    try {
      await waitFor('stale', async () =>
        (await page.evaluate(() => (window as any).t.statusLog())).some((s: [string, number]) => s[0] === 'stale'),
        10_000,
      );
      const log: [string, number][] = await page.evaluate(() => (window as any).t.statusLog());
      const staleAt = log.find((s) => s[0] === 'stale')![1];
      // 2 x heartbeat, plus the heartbeat's own scan slack (a quarter).
      expect(staleAt - stoppedAt).toBeLessThanOrEqual(2 * 1000 + 250 + 500);
    } finally {
      bridge.proc.kill('SIGCONT');
    }
    await backend.publish({ channel: 'c', data: '{"n":2}' });
    await backend.publish({ channel: 'c', data: '{"n":3}' });
    await waitFor('events 2-3', async () => (await page.evaluate(() => (window as any).t.events())).length >= 3, 20_000);
    await waitFor('open again', async () => {
      const s: string[] = await page.evaluate(() => (window as any).t.statuses());
      return s[s.length - 1] === 'open';
    });
    expect(await page.evaluate(() => (window as any).t.events())).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await page.evaluate(() => (window as any).t.resets())).toEqual([]);
  });

  it('ticket path, quiet channel, dropped connection: nothing from before the subscription arrives', async () => {
    const { bridge, backend } = await bridgeWithBackend(['--heartbeat=1s']);
    await backend.publish({ channel: 'quiet', event: 'v', data: '{"retained":1}', retain: true });
    await backend.publish({ channel: 'quiet', data: '{"before":1}' });
    await backend.publish({ channel: 'quiet', data: '{"before":2}' });
    const page = await openPage(backend);
    await page.evaluate(
      (url) => (window as any).t.subscribe({ url, channels: ['quiet'], types: ['v'], ticketUser: 'dave' }),
      bridge.base + '/v1/events',
    );
    await waitFor('retained value', async () => (await page.evaluate(() => (window as any).t.events())).length === 1);
    // Drop the connection: freeze the bridge until the SDK gives the stream
    // up as stale, then let it go; the SDK reconnects with a fresh ticket.
    bridge.proc.kill('SIGSTOP');
    try {
      await waitFor('stale', async () => (await page.evaluate(() => (window as any).t.statuses())).includes('stale'), 10_000);
    } finally {
      bridge.proc.kill('SIGCONT');
    }
    await waitFor('open again', async () => {
      const s: string[] = await page.evaluate(() => (window as any).t.statuses());
      return s[s.length - 1] === 'open';
    }, 20_000);
    await backend.publish({ channel: 'quiet', data: '{"after":1}' });
    await waitFor('the live event', async () => (await page.evaluate(() => (window as any).t.events())).length >= 2);
    expect(await page.evaluate(() => (window as any).t.events())).toEqual([{ retained: 1 }, { after: 1 }]);
    const urls: string[] = await page.evaluate(() => (window as any).t.streamUrls());
    expect(urls.length).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (window as any).t.resets())).toEqual([]);
  });

  it('changing channels 20 times resets nobody, loses or repeats nothing for kept hooks, and the page never holds two streams', async () => {
    const { bridge, backend } = await bridgeWithBackend();
    const page = await openPage();
    for (let r = 0; r < 20; r++) {
      await backend.publish({ channel: `route${r}`, event: 'v', data: `{"route":${r}}`, retain: true });
    }
    const kept: Hook = { id: 'kept', channel: 'kept', type: 'message' };
    await render(page, { url: bridge.base + '/v1/events' }, [kept]);
    await waitFor('open', async () => (await hook(page, 'kept'))?.now?.status === 'open');
    await waitFor('one stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
    // The page's streams, counted by its fetch wrapper from request to
    // abort, and the bridge's stream gauge, sampled as fast as /metrics
    // answers for the whole run. The SDK closes a stream before it opens
    // the next, so the page never holds two. Chromium closes an aborted
    // fetch's connection asynchronously, so the bridge could see the next
    // request first: every stream of the hooks' group carries one name
    // (?stream=), and the bridge closes the old stream of that name before
    // it counts the new one.
    await page.evaluate(() => (window as any).t.maxLive());
    const pageOpened0: number = await page.evaluate(() => (window as any).t.opened());
    const bridgeOpened0 = await metric(bridge, 'ssebridge_streams_opened_total');
    let sampling = true;
    const seen: number[] = [];
    const sampler = (async () => {
      while (sampling) seen.push(await metric(bridge, 'ssebridge_streams'));
    })();
    let n = 0;
    let connects = 0;
    try {
      for (let r = 0; r < 20; r++) {
        await setHooks(page, [kept, { id: `r${r}`, channel: `route${r}`, type: 'v' }]);
        await backend.publish({ channel: 'kept', data: `{"n":${++n}}` });
        await waitFor(`route ${r} retained value`, async () => (await hook(page, `r${r}`))?.now?.data?.route === r);
        await backend.publish({ channel: 'kept', data: `{"n":${++n}}` });
        await waitFor(`kept event ${n}`, async () => (await hookEvents(page, 'kept')).length === n);
      }
      // Changes in one tick and changes during a reconnect join one
      // reconnect: mount two routes, then at once drop one and add another.
      connects = await page.evaluate(() => (window as any).t.client.connects);
      await page.evaluate(() => {
        const t = (window as any).t;
        t.setHooks([{ id: 'kept', channel: 'kept', type: 'message' }, { id: 'x0', channel: 'route0', type: 'v' }, { id: 'x1', channel: 'route1', type: 'v' }]);
        setTimeout(() => t.setHooks([{ id: 'kept', channel: 'kept', type: 'message' }, { id: 'x1', channel: 'route1', type: 'v' }, { id: 'x2', channel: 'route2', type: 'v' }]), 0);
      });
      await backend.publish({ channel: 'kept', data: `{"n":${++n}}` });
      await waitFor('burst retained values', async () =>
        (await hookEvents(page, 'x1')).length === 1 && (await hookEvents(page, 'x2')).length === 1,
      );
      await backend.publish({ channel: 'kept', data: `{"n":${++n}}` });
      await waitFor(`kept event ${n}`, async () => (await hookEvents(page, 'kept')).length === n);
    } finally {
      sampling = false;
      await sampler;
    }
    const burst = (await page.evaluate(() => (window as any).t.client.connects)) - connects;
    const maxLive: number = await page.evaluate(() => (window as any).t.maxLive());
    const twos = seen.filter((v) => v > 1).length;
    console.log(
      `streams: page held at most ${maxLive}; bridge gauge ${seen.length} samples, max ${Math.max(...seen)} (${twos} samples above 1); the burst reconnected ${burst} time(s); replaced on the bridge: ${await metric(bridge, 'ssebridge_streams_closed_total{reason="replaced"}')}`,
    );
    expect(maxLive).toBe(1);
    // The sampler ran all along (it is slower on a busy machine).
    expect(seen.length).toBeGreaterThan(20);
    expect(Math.max(...seen)).toBe(1);
    // Every stream the bridge opened is one the page asked for, one at a time.
    expect((await metric(bridge, 'ssebridge_streams_opened_total')) - bridgeOpened0).toBe(
      (await page.evaluate(() => (window as any).t.opened())) - pageOpened0,
    );
    expect(await hookEvents(page, 'kept')).toEqual(Array.from({ length: n }, (_, i) => ({ n: i + 1 })));
    expect((await hook(page, 'kept')).resets).toEqual([]);
    expect((await hook(page, 'kept')).statuses).toEqual(['connecting', 'open']);
    // The routes' hooks saw their own retained value once and nothing else.
    for (let r = 0; r < 20; r++) expect(await hookEvents(page, `r${r}`)).toEqual([{ route: r }]);
    expect(await hookEvents(page, 'x1')).toEqual([{ route: 1 }]);
    expect(await hookEvents(page, 'x2')).toEqual([{ route: 2 }]);
    await waitFor('one stream', async () => (await metric(bridge, 'ssebridge_streams')) === 1);
  });

  it('more channels than --max_channels_per_connection are split over connections', async () => {
    const { bridge, backend } = await bridgeWithBackend(['--max_channels_per_connection=2']);
    const page = await openPage();
    const hooks = ['c1', 'c2', 'c3', 'c4', 'c5'].map((c) => ({ id: c, channel: c, type: 'message' }));
    await render(page, { url: bridge.base + '/v1/events', maxChannelsPerConnection: 2 }, hooks);
    await waitFor('three streams', async () => (await metric(bridge, 'ssebridge_streams')) === 3);
    for (const h of hooks) await backend.publish({ channel: h.channel, data: `{"c":"${h.channel}"}` });
    for (const h of hooks) {
      await waitFor(`${h.id} live`, async () => (await hookEvents(page, h.id)).length === 1);
      expect(await hookEvents(page, h.id)).toEqual([{ c: h.channel }]);
    }
  });
});
