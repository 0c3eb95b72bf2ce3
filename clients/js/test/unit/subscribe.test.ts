import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BridgeError,
  BridgeEvent,
  ConnectionState,
  DisconnectedError,
  ParseError,
  ResetInfo,
  SseFrame,
  SseParser,
  Status,
  SubscribeOptions,
  TicketError,
  backoffDelay,
  streamUrl,
  subscribe,
} from '../../src/index.js';
import { FakeFetch } from './fake-fetch.js';

let net: FakeFetch;

beforeEach(() => {
  net = new FakeFetch();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Lets fetch promises, stream reads and getTicket settle. */
async function flush() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await vi.advanceTimersByTimeAsync(0);
}

function start(extra: Partial<SubscribeOptions> = {}) {
  const seen = {
    events: [] as BridgeEvent[],
    errors: [] as Error[],
    statuses: [] as Status[],
    states: [] as ConnectionState[],
    resets: [] as ResetInfo[],
    refused: [] as [string, BridgeError][],
  };
  const sub = subscribe({
    url: '/v1/events',
    channels: ['a'],
    fetch: net.fetch,
    random: () => 0.5,
    backoff: { initialMs: 100, maxMs: 1000 },
    onEvent: (e) => seen.events.push(e),
    onError: (e) => seen.errors.push(e),
    onStatus: (s) => seen.statuses.push(s),
    onState: (s) => seen.states.push(s),
    onReset: (r) => seen.resets.push(r),
    onChannelError: (c, e) => seen.refused.push([c, e]),
    ...extra,
  });
  return { sub, seen };
}

function parse(chunks: string[]) {
  const frames: SseFrame[] = [];
  const cursors: string[] = [];
  const hints: string[] = [];
  const p = new SseParser({
    event: (f) => frames.push(f),
    cursor: (id) => cursors.push(id),
    retry: (ms) => hints.push(`retry ${ms}`),
    heartbeat: (ms) => hints.push(`heartbeat ${ms}`),
  });
  for (const c of chunks) p.feed(c);
  return { frames, cursors, hints };
}

describe('streamUrl', () => {
  it('repeats channel and encodes cursor and ticket', () => {
    expect(streamUrl('/v1/events', ['a', 'b:c'], '1x-5', 't+/=')).toBe(
      '/v1/events?channel=a&channel=b%3Ac&lastEventId=1x-5&ticket=t%2B%2F%3D',
    );
    expect(streamUrl('/v1/events?x=1', ['a'])).toBe('/v1/events?x=1&channel=a');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect(backoffDelay(0, o, () => 0)).toBe(50);
    expect(backoffDelay(0, o, () => 1)).toBe(100);
    expect(backoffDelay(3, o, () => 1)).toBe(800);
    expect(backoffDelay(10, o, () => 1)).toBe(1000);
    expect(backoffDelay(10, o, () => 0)).toBe(500);
  });
});

describe('SseParser (WHATWG interpretation plus channel and heartbeat)', () => {
  it('reads the bridge frame with its channel, whatever the chunking', () => {
    const stream =
      ': ok\n\nretry: 3000\n\nheartbeat: 15000\n\n' +
      'channel: orders\nid: e-1\nevent: upd\ndata: {"a":\ndata: 1}\n\n' +
      'id: e-1\ndata: plain\n\n' +
      'id: e-9\n\n';
    const whole = parse([stream]);
    for (let cut = 0; cut <= stream.length; cut += 7) {
      expect(parse([stream.slice(0, cut), stream.slice(cut)])).toEqual(whole);
    }
    expect(whole.hints).toEqual(['retry 3000', 'heartbeat 15000']);
    expect(whole.frames).toEqual([
      { type: 'upd', data: '{"a":\n1}', id: 'e-1', channel: 'orders' },
      { type: 'message', data: 'plain', id: 'e-1', channel: '' },
    ]);
    expect(whole.cursors).toEqual(['e-9']);
  });

  it('follows the spec on line ends, BOM, comments, colons, NUL ids and unterminated lines', () => {
    const r = parse(['\uFEFFdata: a\r', '\ndata:b\rdata\n\n', ': c\nid: x\0y\nfoo: bar\ndata:  two\n\n', 'data: never']);
    expect(r.frames).toEqual([
      { type: 'message', data: 'a\nb\n', id: '', channel: '' },
      { type: 'message', data: ' two', id: '', channel: '' },
    ]);
  });

  it('reports an id-only block even when the id did not change', () => {
    const r = parse(['id: e-5\ndata: x\n\nid: e-5\n\n']);
    expect(r.cursors).toEqual(['e-5']);
  });
});

describe('subscribe', () => {
  it('reads several channels over one fetch and hands out {channel, type, data, id}', async () => {
    const { seen } = start({ channels: ['orders', 'invoices'] });
    expect(net.calls).toHaveLength(1);
    expect(net.last().url).toBe('/v1/events?channel=orders&channel=invoices');
    expect(net.last().init.headers.Accept).toBe('text/event-stream');
    const w = net.last().open();
    w.push('channel: orders\nid: e-1\nevent: upd\ndata: {"n":1}\n\n');
    w.push('channel: invoices\nid: e-2\nevent: upd\ndata: {"n":2}\n\n');
    await flush();
    expect(seen.events.map(({ channel, type, data, id }) => ({ channel, type, data, id }))).toEqual([
      { channel: 'orders', type: 'upd', data: { n: 1 }, id: 'e-1' },
      { channel: 'invoices', type: 'upd', data: { n: 2 }, id: 'e-2' },
    ]);
    expect(seen.statuses).toEqual(['connecting', 'open']);
  });

  it('routes listeners by type, and a throwing listener does not stop later events', async () => {
    const got: string[] = [];
    const { seen } = start({
      listeners: {
        bad: () => {
          throw new Error('boom');
        },
        good: (e) => got.push(e.raw),
      },
    });
    const w = net.last().open();
    w.push('event: bad\ndata: 1\n\nevent: good\ndata: 2\n\n');
    await flush();
    expect(got).toEqual(['2']);
    expect(seen.errors.map((e) => e.message)).toEqual(['boom']);
  });

  it('reports non-JSON payloads as ParseError and goes on; without onError nothing is thrown', async () => {
    const { seen } = start();
    const w = net.last().open();
    w.push('channel: a\nid: e-1\ndata: not json\n\nid: e-2\ndata: {"ok":1}\n\n');
    await flush();
    expect(seen.errors[0]).toBeInstanceOf(ParseError);
    expect((seen.errors[0] as ParseError).raw).toBe('not json');
    expect((seen.errors[0] as ParseError).channel).toBe('a');
    expect(seen.events.map((e) => e.data)).toEqual([{ ok: 1 }]);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    start({ onError: undefined });
    net.last().open().push('data: nope\n\n');
    await flush();
    await vi.advanceTimersByTimeAsync(10);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('passes raw text through with json: false', async () => {
    const { seen } = start({ json: false });
    net.last().open().push('data: plain text\n\n');
    await flush();
    expect(seen.events[0].data).toBe('plain text');
  });

  it('stops for good on 400 and 403, with the status and the bridge\'s reason', async () => {
    for (const status of [400, 403]) {
      net = new FakeFetch();
      const { seen } = start();
      net.last().refuse(status, { error: 'permission_denied', message: 'no' });
      await flush();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(net.calls).toHaveLength(1);
      expect(seen.statuses).toEqual(['connecting', 'error']);
      const err = seen.states[seen.states.length - 1].error as BridgeError;
      expect(err).toBeInstanceOf(BridgeError);
      expect([err.status, err.code, err.detail, err.permanent]).toEqual([status, 'permission_denied', 'no', true]);
      expect(err.message).toBe(`HTTP ${status} permission_denied: no`);
    }
  });

  it('a 401 is permanent without getTicket and retried with a fresh ticket with it', async () => {
    const { seen } = start();
    net.last().refuse(401, { error: 'unauthenticated', message: 'send a ticket' });
    await flush();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(net.calls).toHaveLength(1);
    expect(seen.statuses).toEqual(['connecting', 'error']);

    net = new FakeFetch();
    let n = 0;
    const t = start({ getTicket: () => `t${++n}` });
    await flush();
    net.last().refuse(401, { error: 'unauthenticated', message: 'ticket used' });
    await flush();
    expect(t.seen.statuses).toEqual(['connecting', 'reconnecting']);
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(net.calls).toHaveLength(2);
    expect(net.last().url).toContain('ticket=t2');
  });

  it('drops only the channel a 403 names and goes on with the others at once', async () => {
    const { seen } = start({ channels: ['a', 'b', 'c'] });
    net.last().refuse(403, { error: 'permission_denied', message: "channel 'b' is not granted to this user" });
    await flush();
    expect(net.calls).toHaveLength(2);
    expect(net.last().url).toBe('/v1/events?channel=a&channel=c');
    expect(seen.refused.map(([c, e]) => [c, e.status])).toEqual([['b', 403]]);
    net.last().open();
    await flush();
    expect(seen.statuses).toEqual(['connecting', 'open']);
  });

  it('backs off with jitter on transient failures, exposing attempt and next retry time, honouring Retry-After', async () => {
    const { seen } = start();
    net.last().fail();
    await flush();
    let st = seen.states[seen.states.length - 1];
    expect(st.status).toBe('reconnecting');
    expect(st.attempt).toBe(1);
    expect(st.nextRetryAt! - Date.now()).toBe(75); // 100 cap, random 0.5
    await vi.advanceTimersByTimeAsync(75);
    await flush();
    expect(net.calls).toHaveLength(2);
    net.last().refuse(503, { error: 'unavailable', message: 'redis' }, { 'Retry-After': '5' });
    await flush();
    st = seen.states[seen.states.length - 1];
    expect(st.attempt).toBe(2);
    expect((st.error as BridgeError).status).toBe(503);
    expect(st.nextRetryAt! - Date.now()).toBe(5000);
    await vi.advanceTimersByTimeAsync(4999);
    expect(net.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(net.calls).toHaveLength(3);
    net.last().open();
    await flush();
    expect(seen.states[seen.states.length - 1]).toEqual({ status: 'open', attempt: 0 });
  });

  it('resumes from the id-only head cursor, never from an older retained id', async () => {
    start({ getTicket: () => 'tk' });
    await flush();
    const w = net.last().open();
    w.push(': ok\n\nretry: 50\n\nchannel: a\nid: e-3\nevent: v\ndata: 1\n\nid: e-9\n\n');
    await flush();
    w.end();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(net.calls).toHaveLength(2);
    expect(net.last().url).toBe('/v1/events?channel=a&lastEventId=e-9&ticket=tk');
  });

  it('marks a stream silent for twice the heartbeat stale and reconnects', async () => {
    const { seen } = start();
    const w = net.last().open();
    w.push(': ok\n\nretry: 3000\n\nheartbeat: 1000\n\nid: e-1\ndata: 1\n\n');
    await flush();
    await vi.advanceTimersByTimeAsync(1999);
    expect(seen.statuses).toEqual(['connecting', 'open']);
    w.push(': keepalive\n\n');
    await flush();
    await vi.advanceTimersByTimeAsync(1999);
    expect(seen.statuses).toEqual(['connecting', 'open']);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(seen.statuses).toEqual(['connecting', 'open', 'stale']);
    expect(net.calls[0].aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(net.calls).toHaveLength(2);
    expect(net.last().url).toContain('lastEventId=e-1');
    // A connect that hangs (a frozen bridge still accepts TCP) is given up
    // after 2 x heartbeat too; the stream stays stale until one opens.
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    expect(net.calls[1].aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    await flush();
    expect(net.calls).toHaveLength(3);
    expect(seen.statuses).toEqual(['connecting', 'open', 'stale']);
    net.last().open();
    await flush();
    expect(seen.statuses).toEqual(['connecting', 'open', 'stale', 'open']);
  });

  it('turns ssebridge.reset into onReset and moves the cursor to the head', async () => {
    const { sub, seen } = start();
    net.last().open().push('id: e2-7\nevent: ssebridge.reset\ndata: {"reason":"epoch_changed"}\n\n');
    await flush();
    expect(seen.resets).toEqual([{ reason: 'epoch_changed' }]);
    expect(sub.lastEventId).toBe('e2-7');
    expect(seen.events).toEqual([]);
  });

  it('asks for a fresh ticket after auth_expired and stops for good on ssebridge.disconnected', async () => {
    let n = 0;
    const { sub, seen } = start({ getTicket: async () => `t${++n}` });
    await flush();
    net.last().open().push('id: e-1\ndata: 1\n\nevent: ssebridge.auth_expired\ndata: {}\n\n');
    await flush();
    expect(net.calls).toHaveLength(2);
    expect(net.last().url).toBe('/v1/events?channel=a&lastEventId=e-1&ticket=t2');
    net.last().open().push('event: ssebridge.disconnected\ndata: {"reason":"admin"}\n\n');
    await flush();
    expect(seen.errors[0]).toBeInstanceOf(DisconnectedError);
    expect(sub.status).toBe('closed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(net.calls).toHaveLength(2);
  });

  it('reports a failing getTicket and retries it with backoff', async () => {
    let n = 0;
    const { seen } = start({
      getTicket: async () => {
        if (++n === 1) throw new Error('backend down');
        return 'ok';
      },
    });
    await flush();
    expect(seen.errors[0]).toBeInstanceOf(TicketError);
    expect(net.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    await flush();
    expect(net.calls).toHaveLength(1);
  });

  it('close() aborts the stream and cancels a pending reconnect', async () => {
    const { sub, seen } = start();
    net.last().fail();
    await flush();
    sub.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(net.calls).toHaveLength(1);
    expect(seen.statuses[seen.statuses.length - 1]).toBe('closed');
    const other = start();
    other.sub.close();
    await flush();
    expect(net.last().aborted).toBe(true);
  });

  it('rejects a subscription without channels', () => {
    expect(() => subscribe({ url: '/v1/events', channels: [] })).toThrow(TypeError);
  });
});
