'use client';
// React binding: useChannel(channel, eventType) returns the latest value of
// that (channel, type), the connection status and any error. The hooks of a
// page share a ChannelClient, which spreads their channels over as few
// connections as the bridge allows (`maxChannelsPerConnection`).
import { createContext, createElement, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Connection } from './connection.js';
import type { SseFrame } from './parser.js';
import { Sink, parseReset, reportError, toEvent } from './dispatch.js';
import { readSnapshot, splitId } from './snapshot.js';
import {
  BridgeError,
  BridgeEvent,
  ConnectionState,
  ParseError,
  ResetInfo,
  Status,
  SubscribeOptions,
  Subscription,
} from './types.js';

export type ClientOptions = Omit<
  SubscribeOptions,
  'channels' | 'onEvent' | 'listeners' | 'eventTypes' | 'onStatus' | 'onState' | 'onReset' | 'onChannelError' | 'lastEventId'
> & {
  /** How long a channel stays subscribed after its last hook unmounts (default 1000 ms). */
  lingerMs?: number;
  /** The bridge's `--max_channels_per_connection` (default 64): more are split over connections. */
  maxChannelsPerConnection?: number;
};

/** What a hook knows about the connection carrying its channel. */
export interface ChannelConnection {
  status: Status;
  /** A `BridgeError` (with `status`, `code`, `detail`) for HTTP refusals. */
  error?: Error;
  attempt: number;
  nextRetryAt?: number;
}

interface Watcher {
  ch_: string;
  type_: string;
  event_: (e: BridgeEvent) => void;
  state_: (s: ChannelConnection) => void;
  reset_: (info: ResetInfo) => void;
}

// Internal fields end in `_`: the build shortens them.
interface Group {
  /** The channels this connection should carry. */
  chans_: string[];
  /** Added channels still waiting for their snapshot. */
  need_: string[];
  sub_?: Subscription;
  /** The channels `sub_` was opened with. */
  open_?: string;
  cursor_?: string;
  state_: ConnectionState;
  // Per added channel: the snapshot's head; older events are from before
  // the page subscribed.
  floors_: Map<string, [string, number]>;
  /** The bridge's name for this group's stream: each new one replaces the last. */
  name_: string;
  busy_?: boolean;
  /** Bumped when the stream closes: its late callbacks are ignored. */
  v_: number;
}

const key = (channel: string, type: string) => channel + '\n' + type;

/**
 * The connections of many hooks. A channel change is break-before-make:
 * the connection it touches closes first, a short snapshot stream reads
 * the retained values of the added channels alone, then ONE stream resumes
 * all channels from the closed one's cursor (no reset, no replay, nothing
 * lost), so a connection never has two streams open. Changes made while
 * this runs join it (one reconnect). Removing a channel (after `lingerMs`)
 * resumes the rest the same way. A channel the bridge refuses fails only
 * its own hooks.
 */
export class ChannelClient {
  private readonly watchers = new Set<Watcher>();
  private readonly latest = new Map<string, BridgeEvent>();
  private readonly refused = new Map<string, BridgeError>();
  private groups: Group[] = [];
  private pending = false;
  /** Connections opened so far (tests and diagnostics). */
  connects = 0;

  constructor(readonly options: ClientOptions) {}

  /** The latest event of (channel, type) seen by this client. */
  latestOf(channel: string, type: string): BridgeEvent | undefined {
    return this.latest.get(key(channel, type));
  }

  /** The state of the connection that carries `channel`. */
  stateOf(channel: string): ChannelConnection {
    const error = this.refused.get(channel);
    if (error) return { status: 'error', error, attempt: 0 };
    const g = this.groups.find((g) => g.chans_.includes(channel));
    return g ? g.state_ : { status: 'connecting', attempt: 0 };
  }

  watch(w: Watcher): () => void {
    this.watchers.add(w);
    this.schedule();
    return () => {
      this.watchers.delete(w);
      setTimeout(() => this.schedule(), this.options.lingerMs ?? 1000);
    };
  }

  close(): void {
    this.watchers.clear();
    // A change under way opens nothing more.
    for (const g of this.groups) g.v_++, g.sub_?.close(), (g.chans_ = g.need_ = []);
    this.groups = [];
  }

  // Hooks of one render commit their effects together: change channels once.
  private schedule() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.reconcile();
    });
  }

  private reconcile() {
    const wanted = new Set([...this.watchers].map((w) => w.ch_));
    // A refusal is forgotten once nobody watches the channel: a later
    // mount tries again.
    for (const c of this.refused.keys()) if (!wanted.has(c)) this.refused.delete(c);
    const max = this.options.maxChannelsPerConnection ?? 64;
    for (const g of this.groups) {
      g.chans_ = g.chans_.filter((c) => wanted.has(c));
      g.need_ = g.need_.filter((c) => wanted.has(c));
      for (const c of g.chans_) wanted.delete(c);
    }
    for (const c of wanted) {
      if (this.refused.has(c)) continue;
      let g = this.groups.find((g) => g.chans_.length < max);
      if (!g) this.groups.push((g = { chans_: [], need_: [], state_: { status: 'connecting', attempt: 0 }, floors_: new Map(), v_: 0, name_: ('' + Math.random()).slice(2) }));
      g.chans_.push(c);
      g.need_.push(c);
      // A floor from an earlier subscription would hide the new snapshot.
      g.floors_.delete(c);
    }
    for (const g of this.groups) void this.sync(g);
  }

  // Brings a group's stream to its channels, one stream at a time.
  private async sync(g: Group) {
    if (g.busy_ || g.open_ === g.chans_ + '') return;
    g.busy_ = true;
    g.cursor_ = g.sub_?.lastEventId ?? g.cursor_;
    g.v_++;
    g.sub_?.close();
    g.sub_ = g.open_ = undefined;
    // Without a cursor the new stream's own snapshot covers every channel.
    // Otherwise the kept channels resume from it; the added ones need
    // their retained values, and nothing older than now. Channels added
    // while a snapshot is read get the next one.
    while (g.cursor_ && g.need_.length) {
      const added = g.need_;
      const snap = await readSnapshot({ ...this.options, stream: g.name_ } as SubscribeOptions, added);
      g.need_ = g.need_.filter((c) => !added.includes(c));
      const head = snap && splitId(snap.head);
      if (head) {
        // Retained values carry their older ids: deliver them before the
        // floor that keeps the resumed stream's older events out.
        for (const f of snap.events) this.deliver(g, f);
        for (const c of added) g.floors_.set(c, head);
      }
    }
    g.busy_ = false;
    g.need_ = [];
    if (!g.chans_.length) {
      this.groups = this.groups.filter((x) => x !== g);
      return;
    }
    this.launch(g);
  }

  private launch(g: Group) {
    this.connects++;
    const opts = { ...this.options, channels: [...g.chans_], lastEventId: g.cursor_, stream: g.name_ };
    g.open_ = g.chans_ + '';
    const v = g.v_;
    const mine = () => v === g.v_;
    const each = (fn: (w: Watcher) => void) => {
      if (mine()) for (const w of this.watchers) if (g.chans_.includes(w.ch_)) fn(w);
    };
    const sink: Sink = {
      event: (f) => mine() && this.deliver(g, f),
      reset: (raw, id) => each((w) => w.reset_(parseReset(raw, id))),
      state: (st) => {
        // A channel change reopens an open stream: no 'connecting' flash.
        if (!mine() || (st.status === 'connecting' && g.state_.status === 'open')) return;
        g.state_ = st;
        each((w) => w.state_(this.stateOf(w.ch_)));
      },
      error: (e) => reportError(this.options as SubscribeOptions, e),
      channelError: (channel, error) => {
        if (!mine()) return;
        this.refused.set(channel, error);
        g.chans_ = g.chans_.filter((c) => c !== channel);
        g.open_ = g.chans_ + '';
        sink.error(error);
        for (const w of this.watchers) if (w.ch_ === channel) w.state_(this.stateOf(channel));
      },
    };
    if (opts.shareAcrossTabs) g.sub_ = opts.shareAcrossTabs.open(opts, sink);
    else (g.sub_ = new Connection(opts, sink)).start();
  }

  private deliver(g: Group, f: SseFrame) {
    const e = toEvent(f, this.options.json !== false);
    const channel = f.channel;
    if (e instanceof ParseError) return reportError(this.options as SubscribeOptions, e);
    const floor = g.floors_.get(channel);
    const at = floor && splitId(e.id);
    if (floor && at && at[0] === floor[0] && at[1] <= floor[1]) return;
    this.latest.set(key(channel, e.type), e);
    for (const w of this.watchers) if (w.ch_ === channel && w.type_ === e.type) w.event_(e);
  }
}

const defaultClients = new Map<string, ChannelClient>();

/** The page's shared client for a URL (made on first use). */
export function getClient(options: ClientOptions): ChannelClient {
  let c = defaultClients.get(options.url);
  if (!c) defaultClients.set(options.url, (c = new ChannelClient(options)));
  return c;
}

const ClientContext = createContext<ChannelClient | null>(null);

/** Makes `client` the one every useChannel below uses. */
export function ChannelProvider(props: { client: ChannelClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

export interface UseChannelOptions<T, K extends string = string> {
  /** A client of your own; otherwise the provider's, or the page's default for `url`. */
  client?: ChannelClient;
  /** The events endpoint when no client or provider is given (default `/v1/events`). */
  url?: string;
  /** Value until the first event arrives. */
  initial?: T;
  /** false: do not subscribe (yet); status is `closed`. Default true. */
  enabled?: boolean;
  /** The bridge could not resume (`ssebridge.reset`): refetch what you hold for this channel. */
  onReset?: (info: ResetInfo) => void;
  /** Called for every event of this (channel, type), not only the latest (e.g. toasts). */
  onEvent?: (event: BridgeEvent<T, K>) => void;
}

export interface ChannelState<T, K extends string = string> {
  /** The latest payload, or `initial`. */
  data: T | undefined;
  /** The latest event (channel, type, id, raw text). */
  event: BridgeEvent<T, K> | undefined;
  status: Status;
  /** Why status is `error`, `reconnecting` or `stale` (a `BridgeError` for HTTP refusals). */
  error: Error | undefined;
  /** The id of the latest event. */
  lastEventId: string | undefined;
  /** Failed attempts since the connection was last open. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch). */
  nextRetryAt: number | undefined;
}

export function useChannel<T = unknown, K extends string = string>(
  channel: string,
  eventType: K = 'message' as K,
  options: UseChannelOptions<T, K> = {},
): ChannelState<T, K> {
  const fromContext = useContext(ClientContext);
  const client =
    options.client ?? fromContext ?? getClient({ url: options.url ?? '/v1/events' });
  const enabled = options.enabled !== false;
  const k = key(channel, eventType);
  const [seen, setSeen] = useState<{ k: string; e?: BridgeEvent }>(() => ({
    k,
    e: client.latestOf(channel, eventType),
  }));
  const [conn, setConn] = useState<ChannelConnection>(() => client.stateOf(channel));
  const handlers = useRef(options);
  handlers.current = options;
  useEffect(() => {
    if (!enabled) return;
    setSeen({ k, e: client.latestOf(channel, eventType) });
    setConn(client.stateOf(channel));
    return client.watch({
      ch_: channel,
      type_: eventType,
      event_: (e) => {
        setSeen({ k, e });
        handlers.current.onEvent?.(e as BridgeEvent<T, K>);
      },
      state_: setConn,
      reset_: (info) => handlers.current.onReset?.(info),
    });
  }, [client, channel, eventType, enabled, k]);
  // A hook whose channel or type just changed never shows the old one's value.
  const event = (seen.k === k ? seen.e : client.latestOf(channel, eventType)) as
    | BridgeEvent<T, K>
    | undefined;
  const c: ChannelConnection = enabled ? conn : { status: 'closed', attempt: 0 };
  return {
    data: event ? event.data : options.initial,
    event,
    status: c.status,
    error: c.error,
    lastEventId: event?.id,
    attempt: c.attempt,
    nextRetryAt: c.nextRetryAt,
  };
}

/**
 * `useChannel` typed by an event map of your app, so a wrong channel, event
 * name or payload type is a compile error (types only: no runtime cost):
 *
 * ```ts
 * type Events = { orders: { orderDone: { id: number } }; dash: { stats: Stats } };
 * export const useAppChannel = useChannel as TypedUseChannel<Events>;
 * const { data } = useAppChannel('orders', 'orderDone'); // data: { id: number } | undefined
 * ```
 */
export type TypedUseChannel<M extends Record<string, Record<string, unknown>>> = <
  C extends keyof M & string,
  K extends keyof M[C] & string,
>(
  channel: C,
  eventType: K,
  options?: UseChannelOptions<M[C][K], K>,
) => ChannelState<M[C][K], K>;
