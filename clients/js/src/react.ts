'use client';
// React binding: useChannel(channel, eventType) returns the latest value of
// that (channel, type), the connection status and any error. The hooks of a
// page share a ChannelClient, which spreads their channels over as few
// connections as the bridge allows (`maxChannelsPerConnection`).
import { createContext, createElement, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Connection } from './connection.js';
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
  chans_: string[];
  sub_: Subscription | null;
  cursor_?: string;
  state_: ConnectionState;
  // Per added channel: the snapshot's head; older events are from before
  // the page subscribed.
  floors_: Map<string, [string, number]>;
  version_: number;
}

const key = (channel: string, type: string) => channel + '\n' + type;

/**
 * The connections of many hooks. Adding a channel reconnects only the
 * connection it joins, resuming its other channels from their cursor (no
 * reset, no replay) and taking a snapshot of the added one alone; removing
 * one (after `lingerMs`) resumes the rest the same way. A channel the
 * bridge refuses fails only its own hooks.
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
    for (const g of this.groups) g.sub_?.close();
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
    const changed = new Map<Group, string[]>();
    for (const g of this.groups) {
      const kept = g.chans_.filter((c) => wanted.has(c));
      if (kept.length !== g.chans_.length) changed.set(g, []);
      g.chans_ = kept;
      for (const c of kept) wanted.delete(c);
    }
    for (const c of wanted) {
      if (this.refused.has(c)) continue;
      let g = this.groups.find((g) => g.chans_.length < max);
      if (!g) {
        g = { chans_: [], sub_: null, state_: { status: 'connecting', attempt: 0 }, floors_: new Map(), version_: 0 };
        this.groups.push(g);
      }
      g.chans_.push(c);
      changed.set(g, [...(changed.get(g) ?? []), c]);
    }
    for (const [g, added] of changed) void this.restart(g, added);
  }

  private async restart(g: Group, added: string[]) {
    const version = ++g.version_;
    if (g.sub_) g.cursor_ = g.sub_.lastEventId ?? g.cursor_;
    g.sub_?.close();
    g.sub_ = null;
    if (g.chans_.length === 0) {
      this.groups = this.groups.filter((x) => x !== g);
      return;
    }
    if (g.cursor_ && added.length) {
      // The kept channels resume from the cursor; the added ones need
      // their retained values, and nothing older than now.
      const snap = await readSnapshot(this.options as SubscribeOptions, added);
      if (version !== g.version_) return;
      const head = snap && splitId(snap.head);
      if (snap && head) {
        // Retained values carry their older ids: deliver them before the
        // floor that keeps the resumed stream's older events out.
        for (const f of snap.events) this.deliver(g, f.channel, toEvent(f, this.options.json !== false));
        for (const c of added) g.floors_.set(c, head);
      }
    }
    this.connects++;
    const mine = () => version === g.version_;
    const each = (fn: (w: Watcher) => void) => {
      if (mine()) for (const w of this.watchers) if (g.chans_.includes(w.ch_)) fn(w);
    };
    const sink: Sink = {
      event: (f) => mine() && this.deliver(g, f.channel, toEvent(f, this.options.json !== false)),
      reset: (raw, id) => each((w) => w.reset_(parseReset(raw, id))),
      state: (st) => {
        // A channel change reopens an open stream: no 'connecting' flash.
        if (st.status === 'connecting' && g.state_.status === 'open') return;
        if (mine()) g.state_ = st;
        each((w) => w.state_(this.stateOf(w.ch_)));
      },
      error: (e) => reportError(this.options as SubscribeOptions, e),
      channelError: (channel, error) => {
        if (!mine()) return;
        this.refused.set(channel, error);
        g.chans_ = g.chans_.filter((c) => c !== channel);
        sink.error(error);
        for (const w of this.watchers) if (w.ch_ === channel) w.state_(this.stateOf(channel));
      },
    };
    const opts = { ...this.options, channels: g.chans_, lastEventId: g.cursor_ };
    if (opts.shareAcrossTabs) {
      g.sub_ = opts.shareAcrossTabs.open(opts, sink);
    } else {
      const c = new Connection(opts, sink);
      g.sub_ = c;
      c.start();
    }
  }

  private deliver(g: Group, channel: string, e: BridgeEvent | ParseError) {
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
  const [conn, setConn] = useState<ChannelConnection>(() =>
    enabled ? client.stateOf(channel) : { status: 'closed', attempt: 0 },
  );
  const handlers = useRef(options);
  handlers.current = options;
  useEffect(() => {
    if (!enabled) {
      setConn({ status: 'closed', attempt: 0 });
      return;
    }
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
  return {
    data: event ? event.data : options.initial,
    event,
    status: enabled ? conn.status : 'closed',
    error: enabled ? conn.error : undefined,
    lastEventId: event?.id,
    attempt: enabled ? conn.attempt : 0,
    nextRetryAt: enabled ? conn.nextRetryAt : undefined,
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
