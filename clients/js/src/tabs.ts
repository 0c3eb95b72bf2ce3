// Cross-tab sharing (`@ssebridge/client/tabs`, a separate entry so pages
// that do not share pay nothing for it): all tabs of an origin that
// subscribe with the same url, channels and key share ONE connection. Browsers allow six
// HTTP/1.1 connections per origin, so ten tabs with their own EventSource
// would starve each other.
//
// Leader election uses a Web Lock: every tab asks for the same lock; the tab
// holding it is the leader and runs the real connection, posting every frame
// on a BroadcastChannel; the others (followers) dispatch what they receive.
// When the leader tab closes (or calls close()), the browser releases its
// lock and the next tab in the queue becomes leader, resuming from the last
// id it saw, so the bridge replays what was published during the hand-over.
import { Connection } from './connection.js';
import { Sink } from './dispatch.js';
import type { SseFrame } from './parser.js';
import { BridgeError, ConnectionState, Status, SubscribeOptions, Subscription, TabSharing } from './types.js';

type Frame =
  | { t: 'event'; f: SseFrame; to?: string }
  | { t: 'reset'; raw: string; id: string }
  | { t: 'state'; st: ConnectionState; to?: string }
  | { t: 'error'; message: string; name: string }
  | { t: 'chanerr'; channel: string; status: number; code: string; detail: string }
  | { t: 'hello'; from: string };

export interface ShareOptions {
  /** Separates groups of tabs, e.g. the user id (all sharing tabs must be the same user). */
  key?: string;
  /**
   * Event types whose latest value a tab that joins later gets from the
   * leader at once (dashboard figures; not one-off notifications).
   */
  replayLatest?: string[];
}

/**
 * `subscribe({ ..., shareAcrossTabs: acrossTabs({ key: userId }) })`: one
 * connection for all tabs of this origin with the same url, channels and
 * key. Without Web Locks or BroadcastChannel each tab connects itself.
 */
export function acrossTabs(share: ShareOptions = {}): TabSharing {
  return {
    open: (options, sink) => {
      if (canShareAcrossTabs()) return new SharedSubscription(options, share, sink);
      const connection = new Connection(options, sink);
      connection.start();
      return connection;
    },
  };
}

export function canShareAcrossTabs(): boolean {
  const nav = (globalThis as any).navigator;
  return !!(nav?.locks?.request && typeof (globalThis as any).BroadcastChannel === 'function');
}

export function shareName(options: SubscribeOptions, share: ShareOptions): string {
  return JSON.stringify([
    options.url,
    [...new Set(options.channels)].sort(),
    share.key ?? '',
  ]);
}

export class SharedSubscription implements Subscription {
  private readonly channel: BroadcastChannel;
  private readonly abort = new AbortController();
  private readonly tabId = Math.random().toString(36).slice(2);
  private readonly latest = new Map<string, SseFrame>();
  private readonly replay: Set<string>;
  private connection: Connection | null = null;
  private releaseLock: (() => void) | null = null;
  private cursor: string | undefined;
  private st: ConnectionState = { status: 'connecting', attempt: 0 };
  private closed = false;
  private leading = false;

  constructor(
    private readonly options: SubscribeOptions,
    share: ShareOptions,
    private readonly sink: Sink,
  ) {
    this.cursor = options.lastEventId || undefined;
    this.replay = new Set(share.replayLatest ?? []);
    const name = 'ssebridge:' + shareName(options, share);
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (m: MessageEvent<Frame>) => this.onFrame(m.data);
    this.setState(this.st);
    this.channel.postMessage({ t: 'hello', from: this.tabId } satisfies Frame);
    (globalThis as any).navigator.locks
      .request(name, { signal: this.abort.signal }, () => this.lead())
      .catch(() => {
        /* aborted by close() while waiting: nothing to do */
      });
  }

  /** True while this tab runs the shared connection. */
  get isLeader(): boolean {
    return this.leading;
  }
  get status(): Status {
    return this.st.status;
  }
  get lastEventId(): string | undefined {
    return this.cursor;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.connection?.close();
    this.connection = null;
    this.releaseLock?.();
    this.channel.close();
    this.setState({ status: 'closed', attempt: 0 });
  }

  private setState(st: ConnectionState) {
    this.st = st;
    this.sink.state(st);
  }

  private remember(f: SseFrame) {
    if (f.id) this.cursor = f.id;
    if (this.replay.has(f.type)) this.latest.set(JSON.stringify([f.channel, f.type]), f);
  }

  // Held for as long as this tab leads: the promise resolves on close().
  private lead(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.leading = true;
    const post = (frame: Frame) => {
      if (!this.closed) this.channel.postMessage(frame);
    };
    const leaderSink: Sink = {
      event: (f) => {
        this.remember(f);
        post({ t: 'event', f });
        this.sink.event(f);
      },
      reset: (raw, id) => {
        if (id) this.cursor = id;
        post({ t: 'reset', raw, id });
        this.sink.reset(raw, id);
      },
      state: (st) => {
        if (st.status === 'closed' && this.closed) return; // our own close: others take over
        post({ t: 'state', st: { ...st, error: undefined } });
        this.setState(st);
      },
      error: (error) => {
        post({ t: 'error', message: error.message, name: error.name });
        this.sink.error(error);
      },
      channelError: (channel, e) => {
        post({ t: 'chanerr', channel, status: e.status, code: e.code, detail: e.detail });
        this.sink.channelError(channel, e);
      },
    };
    this.connection = new Connection({ ...this.options, lastEventId: this.cursor }, leaderSink);
    this.connection.start();
    return new Promise<void>((resolve) => {
      this.releaseLock = resolve;
    });
  }

  private onFrame(frame: Frame) {
    if (this.closed) return;
    switch (frame.t) {
      case 'hello':
        if (!this.leading) return;
        this.channel.postMessage({ t: 'state', st: { ...this.st, error: undefined }, to: frame.from } satisfies Frame);
        for (const f of this.latest.values()) {
          this.channel.postMessage({ t: 'event', f, to: frame.from } satisfies Frame);
        }
        return;
      case 'event':
        if (this.leading || (frame.to && frame.to !== this.tabId)) return;
        this.remember(frame.f);
        this.sink.event(frame.f);
        return;
      case 'reset':
        if (this.leading) return;
        if (frame.id) this.cursor = frame.id;
        this.sink.reset(frame.raw, frame.id);
        return;
      case 'state':
        if (this.leading || (frame.to && frame.to !== this.tabId)) return;
        this.setState(frame.st);
        return;
      case 'chanerr':
        if (this.leading) return;
        this.sink.channelError(frame.channel, new BridgeError(frame.status, frame.code, frame.detail, true));
        return;
      case 'error': {
        if (this.leading) return;
        const error = new Error(`(leader tab) ${frame.message}`);
        error.name = frame.name;
        this.sink.error(error);
        return;
      }
    }
  }
}
