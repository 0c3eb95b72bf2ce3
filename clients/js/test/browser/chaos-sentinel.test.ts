// The chaos of chaos.test.ts on Redis with Sentinel: one real Chromium page
// with the SDK behind a real HAProxy (health checks on /readyz) and three
// replicas that find the primary through three redis-sentinel processes
// (--redis_sentinels; a primary and one replica). Replicas are SIGKILLed and
// restarted on new ports, and once the Redis primary is SIGKILLed: the
// sentinels promote the replica and the bridges follow without a restart.
//
// A failover may start a new epoch, and a stream that crosses it is then
// reset: "lossless, or a reset". Every acknowledged event reaches the page,
// or the page got a reset that covers it (the epoch it left, or the head's
// epoch up to the head); nothing arrives twice, no id is acknowledged twice,
// and each publisher's events arrive in the order it published them. A
// second run cuts the replica off before the kill, so the promoted one lacks
// the last events for sure and the page must be reset past them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  Backend,
  Bridge,
  Haproxy,
  SentinelCluster,
  launchBrowser,
  startBridge,
  startHaproxy,
  startPageServer,
  startSentinelCluster,
  waitFor,
  waitReady,
} from './harness.js';

const REPLICAS = 3;
const KILLS = 3;
const FAILOVER_AT = 1; // after this kill of a replica, the Redis primary goes

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

// "<epoch>-<seq>" (the epoch may hold dashes itself).
function parseId(id: string): { epoch: string; seq: number } | null {
  const dash = id.lastIndexOf('-');
  if (dash <= 0) return null;
  const seq = Number(id.slice(dash + 1));
  return Number.isSafeInteger(seq) ? { epoch: id.slice(0, dash), seq } : null;
}

type Id = { epoch: string; seq: number };
type Reset = { reason: string; cursor?: string; head?: string };
// A reset covers an event of the epoch it left (its cursor's, when the head
// is in another one), and one of the head's epoch up to the head.
function coveredBy(resets: Reset[], id: string): boolean {
  const e = parseId(id);
  if (e === null) return false;
  return resets.some((r) => {
    const head = parseId(r.head ?? '');
    const cursor = parseId(r.cursor ?? '');
    if (head === null) return false;
    if (head.epoch === e.epoch) return e.seq <= head.seq;
    return cursor !== null && cursor.epoch === e.epoch;
  });
}

describe('the SDK behind HAProxy while replicas die and the Redis primary fails over', () => {
  it('gets every acknowledged event once, in order, or a reset past it', () => chaos(false), 240_000);
  // The replica cut off before the kill: what only the old primary had is
  // lost, and the page must be reset past it.
  it('is reset past what a lagging replica lost in the failover', () => chaos(true), 240_000);
});

async function chaos(lagging: boolean) {
  {
    const cluster: SentinelCluster = await startSentinelCluster();
    cleanup.push(() => cluster.stop());
    const flags = [
      '--broker=redis', `--redis_sentinels=${cluster.sentinels}`, `--redis_sentinel_master=${cluster.master}`,
      '--redis_sentinel_timeout=500ms', '--cors_origins=*',
      '--redis_command_timeout=1s', '--redis_reconnect_min=50ms', '--redis_reconnect_max=300ms',
      '--retry=300ms', '--retry_jitter=0s',
      // History longer than any gap here: a reset comes from the failover only.
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
    const acked: { p: number; n: number | string; id: string }[] = [];
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
          const res = await backend.publish({ channel: 'chaos', data: JSON.stringify({ p, n }) });
          acked.push({ p, n, id: res.id });
        } catch {
          unacked++; // refused, or the outcome is unknown: may or may not arrive
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    });

    const oldPrimary = cluster.primaryPort();
    for (let k = 0; k < KILLS; k++) {
      const before = acked.length;
      await waitFor('events between faults', () => acked.length >= before + 60, 60_000);
      const slot = k % REPLICAS;
      const old = replicas[slot];
      const oldBackend = backends[slot];
      backends[slot] = null;
      old.proc.kill('SIGKILL');
      await old.stop();
      oldBackend?.close();
      const fresh = await start(slot);
      await lb.setBackend(slot, fresh.httpPort);
      if (k === FAILOVER_AT) {
        if (lagging) {
          await cluster.cutOffReplica();
          try {
            const cut = acked.length;
            await waitFor('events the replica lacks', () => acked.length >= cut + 30, 20_000);
            cluster.killPrimary();
          } finally {
            cluster.resumeReplica();
          }
        } else {
          cluster.killPrimary();
        }
        await cluster.waitFailover(60_000);
      }
    }
    expect(cluster.primaryPort()).not.toBe(oldPrimary);
    stopping = true;
    await Promise.all(publishers);
    await waitFor('every replica up in haproxy', allUp, 30_000);
    for (let p = 0; p < REPLICAS; p++) {
      const res = await backends[p]!.publish({ channel: 'chaos', data: JSON.stringify({ p, n: 'end' }) });
      acked.push({ p, n: 'end', id: res.id });
    }
    // Each publisher's end arrived, or a reset past it (the page's stream
    // may cross the failover late and be reset to a head beyond the ends).
    const ends = acked.filter((a) => a.n === 'end');
    const pageResets = async (): Promise<Reset[]> => page.evaluate(() => (window as any).t.resets());
    try {
      await waitFor('the page reaches every end, or a reset past it', async () => {
        const got: any[] = await page.evaluate(() => (window as any).t.events());
        const resets = await pageResets();
        return ends.every(({ p, id }) => got.some((e) => e.p === p && e.n === 'end') || coveredBy(resets, id));
      }, 60_000);
    } catch (e) {
      // What the page saw last, and what was acknowledged, to tell a lost
      // event from a stream that stopped.
      const tail = await page.evaluate(() =>
        (window as any).t.log.slice(-15).map((e: any) => JSON.stringify([e.kind, e.id, e.data, e.info, e.status])),
      );
      console.log(`acknowledged last: ${JSON.stringify(acked.slice(-6))}\npage log tail:\n${tail.join('\n')}`);
      throw e;
    }

    const got: { data: { p: number; n: number | string }; id: string }[] = await page.evaluate(() =>
      (window as any).t.log.filter((e: any) => e.kind === 'event').map((e: any) => ({ data: e.data, id: e.id })),
    );
    const keys = got.map((e) => `${e.data.p}-${e.data.n}`);
    const resets = await pageResets();
    const missing = acked.filter(({ p, n }) => !keys.includes(`${p}-${n}`));
    const lost = missing.filter(({ id }) => !coveredBy(resets, id));
    const duplicated = keys.length - new Set(keys).size;
    const ids = acked.map((a) => a.id);
    const idsTwice = ids.length - new Set(ids).size;
    const opened = await page.evaluate(() => (window as any).t.opened());
    const epochs = new Set(acked.map((a) => parseId(a.id)?.epoch));
    console.log(
      `chaos with a failover${lagging ? ' to a lagging replica' : ''} (Chromium): acknowledged ${acked.length}, not acknowledged ${unacked}, ` +
        `received ${keys.length}, missing ${missing.length} (covered by a reset ${missing.length - lost.length}), ` +
        `duplicated ${duplicated}, resets ${resets.length} ${JSON.stringify(resets.map((r) => r.reason))}, ` +
        `epochs ${epochs.size}, streams opened ${opened}`,
    );
    expect(lost).toEqual([]);
    expect(duplicated).toBe(0);
    expect(idsTwice).toBe(0);
    // An acknowledged id carries what was published with it.
    const byId = new Map(acked.map((a) => [a.id, `${a.p}-${a.n}`]));
    for (const e of got) {
      if (byId.has(e.id)) expect(`${e.data.p}-${e.data.n}`).toBe(byId.get(e.id));
    }
    // Each publisher's acknowledged events in the order it published them
    // (two whose outcome was unknown may have run in either order).
    const ackedKeys = new Set(acked.map(({ p, n }) => `${p}-${n}`));
    for (let p = 0; p < REPLICAS; p++) {
      const ns = got
        .map((e) => e.data)
        .filter((e) => e.p === p && e.n !== 'end' && ackedKeys.has(`${p}-${e.n}`))
        .map((e) => e.n as number);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect(opened).toBeGreaterThan(1); // the kills moved the page's stream at least once
    if (lagging) expect(resets.length).toBeGreaterThan(0);
    for (const b of backends) b?.close();
  }
}
