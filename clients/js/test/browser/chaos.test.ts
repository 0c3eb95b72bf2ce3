// One real Chromium page with the SDK in the chaos of issue 21, item 9:
// three replicas on one Redis behind a real HAProxy (health checks on
// /readyz), a publisher on every replica, replicas SIGKILLed and restarted
// on new ports, Redis frozen once. The page reconnects through HAProxy by
// itself; it must end with every acknowledged event exactly once, in each
// publisher's order, and no reset. (The C++ ChaosTest runs the same
// scenario with many simulated browsers.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  Backend,
  Bridge,
  Haproxy,
  Redis,
  launchBrowser,
  startBridge,
  startHaproxy,
  startPageServer,
  startRedis,
  waitFor,
  waitReady,
} from './harness.js';

const REPLICAS = 3;
const KILLS = 4;

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

describe('the SDK behind HAProxy while replicas die and Redis freezes', () => {
  it('gets every acknowledged event once, in order, without a reset', async () => {
    const redis: Redis = await startRedis();
    cleanup.push(() => redis.stop());
    const flags = [
      '--broker=redis', `--redis_url=${redis.url}`, '--cors_origins=*',
      '--redis_command_timeout=1s', '--redis_reconnect_min=50ms', '--redis_reconnect_max=300ms',
      '--retry=300ms', '--retry_jitter=0s',
      // History longer than any gap here, so "no reset" does not depend on timing.
      '--history_size=100000',
    ];
    const replicas: Bridge[] = [];
    const backends: (Backend | null)[] = [];
    const start = async (slot: number) => {
      const b = await startBridge(flags);
      cleanup.push(() => b.stop());
      await waitReady(b);
      replicas[slot] = b;
      backends[slot] = new Backend(`127.0.0.1:${b.grpcPort}`);
      return b;
    };
    for (let i = 0; i < REPLICAS; i++) await start(i);
    const lb: Haproxy = await startHaproxy(replicas.map((r) => r.httpPort));
    cleanup.push(() => lb.stop());
    const allUp = async () => {
      for (let i = 0; i < REPLICAS; i++) if (!(await lb.backendUp(i))) return false;
      return true;
    };
    await waitFor('every replica up in haproxy', allUp, 20_000);

    const ctx = await browser.newContext();
    cleanup.push(() => ctx.close());
    const page: Page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(pages.base + '/');
    await page.waitForFunction(() => (window as any).t !== undefined);
    await page.evaluate(
      (url) => (window as any).t.subscribe({ url, channels: ['chaos'], backoff: { initialMs: 200, maxMs: 1000 } }),
      lb.base + '/v1/events',
    );
    await waitFor('the page open', async () =>
      (await page.evaluate(() => (window as any).t.statuses())).includes('open'));

    // Publishers: one per replica slot, a few events a second each, until
    // told to stop; only acknowledged events must arrive.
    const acked: { p: number; n: number }[] = [];
    let unacked = 0;
    let stopping = false;
    const publishers = [...Array(REPLICAS).keys()].map(async (p) => {
      // Bounded in count and by `stopping`; only attempts count.
      for (let n = 0; n < 20000 && !stopping; ) {
        const backend = backends[p];
        if (!backend) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        n++;
        try {
          await backend.publish({ channel: 'chaos', data: JSON.stringify({ p, n }) });
          acked.push({ p, n });
        } catch {
          unacked++; // refused, or the outcome is unknown: may or may not arrive
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    });

    for (let k = 0; k < KILLS; k++) {
      const before = acked.length;
      await waitFor('events between faults', () => acked.length >= before + 60, 20_000);
      const slot = k % REPLICAS;
      const old = replicas[slot];
      const oldBackend = backends[slot];
      backends[slot] = null;
      old.proc.kill('SIGKILL');
      await old.stop();
      oldBackend?.close();
      const fresh = await start(slot);
      await lb.setBackend(slot, fresh.httpPort);
      if (k === 1) {
        // Frozen until a replica noticed (turned unready), then thawed.
        redis.freeze();
        try {
          await waitFor('a replica unready', async () => {
            for (const r of replicas) {
              if ((await fetch(`${r.base}/readyz`)).status === 503) return true;
            }
            return false;
          }, 20_000);
        } finally {
          redis.thaw();
        }
      }
    }
    stopping = true;
    await Promise.all(publishers);
    await waitFor('every replica up in haproxy', allUp, 20_000);
    for (let p = 0; p < REPLICAS; p++) {
      await backends[p]!.publish({ channel: 'chaos', data: JSON.stringify({ p, n: 'end' }) });
    }
    await waitFor('the page reaches every end', async () => {
      const got: any[] = await page.evaluate(() => (window as any).t.events());
      return [...Array(REPLICAS).keys()].every((p) => got.some((e) => e.p === p && e.n === 'end'));
    }, 60_000);

    const got: { p: number; n: number | string }[] = await page.evaluate(() => (window as any).t.events());
    const keys = got.map((e) => `${e.p}-${e.n}`);
    const missing = acked.filter(({ p, n }) => !keys.includes(`${p}-${n}`));
    const duplicated = keys.length - new Set(keys).size;
    const resets = await page.evaluate(() => (window as any).t.resets());
    const opened = await page.evaluate(() => (window as any).t.opened());
    console.log(
      `chaos (Chromium): acknowledged ${acked.length}, not acknowledged ${unacked}, ` +
        `received ${keys.length}, missing ${missing.length}, duplicated ${duplicated}, ` +
        `resets ${resets.length}, streams opened ${opened}`,
    );
    expect(missing).toEqual([]);
    expect(duplicated).toBe(0);
    expect(resets).toEqual([]);
    // Each publisher's acknowledged events in the order it published them
    // (two whose outcome was unknown may have run in either order).
    const ackedKeys = new Set(acked.map(({ p, n }) => `${p}-${n}`));
    for (let p = 0; p < REPLICAS; p++) {
      const ns = got
        .filter((e) => e.p === p && e.n !== 'end' && ackedKeys.has(`${p}-${e.n}`))
        .map((e) => e.n as number);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect(opened).toBeGreaterThan(1); // the kills moved the page's stream at least once
    for (const b of backends) b?.close();
  }, 180_000);
});
