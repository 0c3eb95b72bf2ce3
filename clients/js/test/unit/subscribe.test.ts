import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BridgeEvent,
  ConnectionError,
  DisconnectedError,
  ParseError,
  ResetInfo,
  Status,
  TicketError,
  backoffDelay,
  streamUrl,
  subscribe,
} from '../../src/index.js';
import { FakeEventSource } from './fake-event-source.js';

const ES = FakeEventSource as any;

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function flush() {
  // getTicket is awaited: let its promise settle.
  for (let i = 0; i < 5; i++) await Promise.resolve();
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

describe('subscribe', () => {
  it('opens one EventSource for several channels and parses JSON', () => {
    const events: BridgeEvent[] = [];
    const done: BridgeEvent[] = [];
    subscribe({
      url: '/v1/events',
      channels: ['tasks', 'dashboard'],
      EventSource: ES,
      onEvent: (e) => events.push(e),
      listeners: { taskDone: (e) => done.push(e) },
    });
    const es = FakeEventSource.last();
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(es.params.getAll('channel')).toEqual(['tasks', 'dashboard']);
    expect(es.types).toContain('taskDone');
    es.open();
    es.emit('message', '{"n":1}', 'e1-1');
    es.emit('taskDone', '{"id":7}', 'e1-2');
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { id: 7 }]);
    expect(done).toEqual([{ type: 'taskDone', data: { id: 7 }, raw: '{"id":7}', id: 'e1-2' }]);
  });

  it('reports a JSON parse error to onError with the raw text, and goes on', () => {
    const errors: Error[] = [];
    const events: unknown[] = [];
    subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      onEvent: (e) => events.push(e.data),
      onError: (err) => errors.push(err),
    });
    const es = FakeEventSource.last();
    es.emit('message', 'not json', 'e-1');
    es.emit('message', '2', 'e-2');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ParseError);
    expect((errors[0] as ParseError).raw).toBe('not json');
    expect((errors[0] as ParseError).id).toBe('e-1');
    expect(events).toEqual([2]);
  });

  it('rethrows errors asynchronously when there is no onError', () => {
    subscribe({ url: '/e', channels: ['a'], EventSource: ES, onEvent: () => {} });
    FakeEventSource.last().emit('message', '{bad', 'e-1');
    expect(() => vi.runAllTimers()).toThrow(ParseError);
  });

  it('passes raw text through with json: false', () => {
    const got: unknown[] = [];
    subscribe({ url: '/e', channels: ['a'], EventSource: ES, json: false, onEvent: (e) => got.push(e.data) });
    FakeEventSource.last().emit('message', 'plain text', 'e-1');
    expect(got).toEqual(['plain text']);
  });

  it('routes a listener exception to onError instead of losing later events', () => {
    const errors: Error[] = [];
    const seen: number[] = [];
    subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      onError: (e) => errors.push(e),
      onEvent: (e) => {
        if (e.data === 1) throw new Error('boom');
        seen.push(e.data as number);
      },
    });
    const es = FakeEventSource.last();
    es.emit('message', '1', 'e-1');
    es.emit('message', '2', 'e-2');
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(seen).toEqual([2]);
  });

  it('turns ssebridge.reset into onReset and moves the cursor to the head', () => {
    const resets: ResetInfo[] = [];
    const sub = subscribe({ url: '/e', channels: ['a'], EventSource: ES, onReset: (r) => resets.push(r) });
    FakeEventSource.last().emit(
      'ssebridge.reset',
      '{"reason":"cursor_too_old","cursor":"old-1","head":"new-9"}',
      'new-9',
    );
    expect(resets).toEqual([{ reason: 'cursor_too_old', cursor: 'old-1', head: 'new-9' }]);
    expect(sub.lastEventId).toBe('new-9');
  });

  it('reports status changes once each', () => {
    const statuses: Status[] = [];
    const sub = subscribe({ url: '/e', channels: ['a'], EventSource: ES, onStatus: (s) => statuses.push(s) });
    const es = FakeEventSource.last();
    es.open();
    es.dropAndRetry();
    es.dropAndRetry();
    es.open();
    sub.close();
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open', 'closed']);
    expect(es.closedByClient).toBe(true);
  });

  it('leaves reconnects to the browser while it retries by itself', () => {
    subscribe({ url: '/e', channels: ['a'], EventSource: ES, onError: () => {} });
    FakeEventSource.last().dropAndRetry();
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('reconnects itself with backoff and the last id when the browser gives up', () => {
    const errors: Error[] = [];
    subscribe({
      url: '/e',
      channels: ['a', 'b'],
      EventSource: ES,
      lastEventId: 'e-3',
      random: () => 1,
      backoff: { initialMs: 100, maxMs: 1000 },
      onError: (e) => errors.push(e),
    });
    const first = FakeEventSource.last();
    expect(first.params.get('lastEventId')).toBe('e-3');
    first.open();
    first.emit('message', '{}', 'e-7');
    first.fail();
    expect(errors[0]).toBeInstanceOf(ConnectionError);
    vi.advanceTimersByTime(99);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    const second = FakeEventSource.last();
    expect(second.params.get('lastEventId')).toBe('e-7');
    expect(second.params.getAll('channel')).toEqual(['a', 'b']);
    // It keeps failing: delays double, then stay at the cap.
    second.fail();
    vi.advanceTimersByTime(199);
    expect(FakeEventSource.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    FakeEventSource.last().fail();
    vi.advanceTimersByTime(400);
    expect(FakeEventSource.instances).toHaveLength(4);
    FakeEventSource.last().fail();
    vi.advanceTimersByTime(800);
    FakeEventSource.last().fail();
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(6);
    // A successful open resets the backoff.
    FakeEventSource.last().open();
    FakeEventSource.last().fail();
    vi.advanceTimersByTime(100);
    expect(FakeEventSource.instances).toHaveLength(7);
  });

  it('spreads reconnects with jitter', () => {
    const delays = [0, 0.5, 1].map((r) => backoffDelay(2, { initialMs: 1000 }, () => r));
    expect(new Set(delays).size).toBe(3);
  });

  it('asks for a fresh ticket on every connect and after auth_expired', async () => {
    let n = 0;
    const getTicket = vi.fn(async () => `t${++n}`);
    subscribe({ url: '/e', channels: ['a'], EventSource: ES, getTicket, onError: () => {} });
    await flush();
    const first = FakeEventSource.last();
    expect(first.params.get('ticket')).toBe('t1');
    first.open();
    first.emit('message', '{}', 'e-4');
    first.emit('ssebridge.auth_expired', '{}', '');
    expect(first.closedByClient).toBe(true);
    await flush();
    const second = FakeEventSource.last();
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(second.params.get('ticket')).toBe('t2');
    expect(second.params.get('lastEventId')).toBe('e-4');
  });

  it('with tickets, reconnects itself (a used ticket would be refused as 401)', async () => {
    let n = 0;
    subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      getTicket: () => `t${++n}`,
      random: () => 0,
      backoff: { initialMs: 100 },
      onError: () => {},
    });
    await flush();
    const first = FakeEventSource.last();
    first.open();
    first.emit('message', '{}', 'e-9');
    first.dropAndRetry(); // the browser would retry with ticket t1 again
    expect(first.closedByClient).toBe(true);
    vi.advanceTimersByTime(50);
    await flush();
    expect(FakeEventSource.last().params.get('ticket')).toBe('t2');
    expect(FakeEventSource.last().params.get('lastEventId')).toBe('e-9');
  });

  it('reports a failing getTicket and retries it with backoff', async () => {
    const errors: Error[] = [];
    let calls = 0;
    subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      random: () => 1,
      backoff: { initialMs: 100 },
      getTicket: async () => {
        if (++calls === 1) throw new Error('backend down');
        return 'ok';
      },
      onError: (e) => errors.push(e),
    });
    await flush();
    expect(errors[0]).toBeInstanceOf(TicketError);
    expect(FakeEventSource.instances).toHaveLength(0);
    vi.advanceTimersByTime(100);
    await flush();
    expect(FakeEventSource.last().params.get('ticket')).toBe('ok');
  });

  it('stops for good on ssebridge.disconnected', () => {
    const errors: Error[] = [];
    const statuses: Status[] = [];
    subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      onError: (e) => errors.push(e),
      onStatus: (s) => statuses.push(s),
    });
    FakeEventSource.last().emit('ssebridge.disconnected', '{"reason":"admin"}');
    vi.advanceTimersByTime(120_000);
    expect(errors[0]).toBeInstanceOf(DisconnectedError);
    expect(statuses.at(-1)).toBe('closed');
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('close() cancels a pending reconnect and ignores late frames', () => {
    const events: unknown[] = [];
    const sub = subscribe({
      url: '/e',
      channels: ['a'],
      EventSource: ES,
      onEvent: (e) => events.push(e),
      onError: () => {},
    });
    const es = FakeEventSource.last();
    es.fail();
    sub.close();
    vi.advanceTimersByTime(120_000);
    expect(FakeEventSource.instances).toHaveLength(1);
    es.emit('message', '1', 'e-1');
    expect(events).toEqual([]);
    expect(sub.status).toBe('closed');
  });

  it('rejects a subscription without channels', () => {
    expect(() => subscribe({ url: '/e', channels: [], EventSource: ES })).toThrow(/channel/);
  });
});
