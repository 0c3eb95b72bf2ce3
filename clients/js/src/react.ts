// React binding: useChannel(channel, eventType) returns the latest value and
// the connection status. Every hook of a page shares one connection (one
// ChannelClient), which reads the union of the hooks' channels.
import { createContext, createElement, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { subscribe } from './index.js';
import type {
  BridgeEvent,
  ResetInfo,
  Status,
  SubscribeOptions,
  Subscription,
} from './types.js';

export type ClientOptions = Omit<
  SubscribeOptions,
  'channels' | 'onEvent' | 'listeners' | 'eventTypes' | 'onStatus' | 'onReset'
> & {
  /** How long the connection stays open after the last hook unmounts (default 1000 ms). */
  lingerMs?: number;
};

interface Watcher {
  channel: string;
  type: string;
  event: (e: BridgeEvent) => void;
  status: (s: Status) => void;
  reset: (info: ResetInfo) => void;
}

/**
 * One connection for many hooks. The SSE frame carries no channel name, so
 * hooks are matched by event type: give the channels one page reads
 * distinct event types.
 */
export class ChannelClient {
  private readonly watchers = new Set<Watcher>();
  private readonly latest = new Map<string, BridgeEvent>();
  private sub: Subscription | null = null;
  private channels: string[] = [];
  private types: string[] = [];
  private state: Status = 'closed';
  private pending = false;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  /** Connections opened so far (tests and diagnostics). */
  connects = 0;

  constructor(readonly options: ClientOptions) {}

  get status(): Status {
    return this.state;
  }

  /** The latest event of a type seen on this connection. */
  latestOf(type: string): BridgeEvent | undefined {
    return this.latest.get(type);
  }

  watch(w: Watcher): () => void {
    this.watchers.add(w);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.schedule();
    return () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = null;
          if (this.watchers.size === 0) this.stop();
        }, this.options.lingerMs ?? 1000);
      }
    };
  }

  close(): void {
    this.watchers.clear();
    this.stop();
  }

  private stop() {
    this.sub?.close();
    this.sub = null;
    this.channels = [];
    this.types = [];
    this.setStatus('closed');
  }

  private setStatus(s: Status) {
    this.state = s;
    for (const w of this.watchers) w.status(s);
  }

  // Hooks of one render commit their effects together: reconnect once for all.
  private schedule() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.reconcile();
    });
  }

  private reconcile() {
    const channels = new Set(this.channels);
    const types = new Set(this.types);
    let grew = !this.sub;
    for (const w of this.watchers) {
      if (!channels.has(w.channel)) (channels.add(w.channel), (grew = true));
      if (!types.has(w.type)) (types.add(w.type), (grew = true));
    }
    if (!grew || this.watchers.size === 0) return;
    const reopening = this.sub !== null;
    this.sub?.close();
    this.channels = [...channels].sort();
    this.types = [...types].sort();
    // A fresh stream (no cursor) so the new channels' retained values come
    // too; what the old one might have missed in between is signalled as a
    // reset, never dropped silently.
    if (reopening) {
      for (const w of this.watchers) w.reset({ reason: 'resubscribed' });
    }
    this.connects++;
    this.sub = subscribe({
      ...this.options,
      channels: this.channels,
      eventTypes: this.types,
      onEvent: (e) => {
        this.latest.set(e.type, e);
        for (const w of this.watchers) if (w.type === e.type) w.event(e);
      },
      onStatus: (s) => this.setStatus(s),
      onReset: (info) => {
        for (const w of this.watchers) w.reset(info);
      },
    });
  }
}

const defaultClients = new Map<string, ChannelClient>();

/** The page's shared client for a URL (made on first use). */
export function getClient(options: ClientOptions): ChannelClient {
  let c = defaultClients.get(options.url);
  if (!c) {
    c = new ChannelClient(options);
    defaultClients.set(options.url, c);
  }
  return c;
}

const ClientContext = createContext<ChannelClient | null>(null);

/** Makes `client` the one every useChannel below uses. */
export function ChannelProvider(props: { client: ChannelClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

export interface UseChannelOptions<T> {
  /** A client of your own; otherwise the provider's, or the page's default for `url`. */
  client?: ChannelClient;
  /** The events endpoint when no client or provider is given (default `/v1/events`). */
  url?: string;
  /** Value until the first event arrives. */
  initial?: T;
  /** Called on `ssebridge.reset` (and when the page's connection is reopened). */
  onReset?: (info: ResetInfo) => void;
  /** Called for every event of this type, not only the latest (e.g. toasts). */
  onEvent?: (event: BridgeEvent<T>) => void;
}

export interface ChannelState<T> {
  data: T | undefined;
  status: Status;
  /** The latest event (id, raw text) or undefined. */
  event: BridgeEvent<T> | undefined;
}

export function useChannel<T = unknown>(
  channel: string,
  eventType = 'message',
  options: UseChannelOptions<T> = {},
): ChannelState<T> {
  const fromContext = useContext(ClientContext);
  const client =
    options.client ?? fromContext ?? getClient({ url: options.url ?? '/v1/events' });
  const [event, setEvent] = useState<BridgeEvent<T> | undefined>(
    () => client.latestOf(eventType) as BridgeEvent<T> | undefined,
  );
  const [status, setStatus] = useState<Status>(client.status);
  const handlers = useRef(options);
  handlers.current = options;
  useEffect(() => {
    const cached = client.latestOf(eventType) as BridgeEvent<T> | undefined;
    if (cached) setEvent(cached);
    return client.watch({
      channel,
      type: eventType,
      event: (e) => {
        setEvent(e as BridgeEvent<T>);
        handlers.current.onEvent?.(e as BridgeEvent<T>);
      },
      status: setStatus,
      reset: (info) => handlers.current.onReset?.(info),
    });
  }, [client, channel, eventType]);
  return { data: event ? event.data : options.initial, status, event };
}
