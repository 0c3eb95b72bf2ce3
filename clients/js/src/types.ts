import type { Sink } from './dispatch.js';

/**
 * Connection state as the page should show it:
 * - `connecting`: the first connect is under way;
 * - `open`: live;
 * - `stale`: the stream went silent for more than twice the bridge's
 *   heartbeat (a frozen bridge or a dead network path); what the page
 *   shows may be outdated; the SDK is reconnecting;
 * - `reconnecting`: the stream broke; the SDK retries with backoff;
 * - `error`: a permanent failure (400, 403, 401 with no `getTicket`); no
 *   more retries: see `error`;
 * - `closed`: closed by the page.
 */
export type Status = 'connecting' | 'open' | 'stale' | 'reconnecting' | 'error' | 'closed';

/** One event from the bridge. */
export interface BridgeEvent<T = unknown, K extends string = string> {
  /** The channel the event was published on. */
  channel: string;
  /** The SSE event type (`message` when the publisher left `event` empty). */
  type: K;
  /** The payload, parsed as JSON (or the raw text with `json: false`). */
  data: T;
  /** The payload exactly as received. */
  raw: string;
  /** The event id, `<epoch>-<seq>`: the resume cursor. */
  id: string;
}

/** The body of an `ssebridge.reset` event: history did not reach back. */
export interface ResetInfo {
  /** `cursor_too_old`, `epoch_changed`, `cursor_ahead` or `malformed_cursor` (from the bridge). */
  reason: string;
  cursor?: string;
  head?: string;
  [key: string]: unknown;
}

export type Listener<T = unknown> = (event: BridgeEvent<T>) => void;

/** Where a connection stands, with its retry schedule. */
export interface ConnectionState {
  status: Status;
  /** Failed attempts since the stream was last open (0 while open). */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while one is scheduled. */
  nextRetryAt?: number;
  /** The last failure (a `BridgeError` for HTTP answers). */
  error?: Error;
}

/** The part of `fetch` the SDK uses (injectable for tests). */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; credentials: 'include' | 'same-origin'; signal: AbortSignal; cache: 'no-store' },
) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}>;

export interface BackoffOptions {
  /** First delay before a retry, in ms (default 1000). */
  initialMs?: number;
  /** Largest delay, in ms (default 30000). */
  maxMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
}

export interface SubscribeOptions {
  /** The bridge's events endpoint, e.g. `https://bridge.example.com/v1/events` or `/v1/events`. */
  url: string;
  /** Channels to read over this one connection. */
  channels: string[];
  /** Every event, of every channel and type. */
  onEvent?: Listener;
  /** Per event type: `{ taskDone: (e) => ..., dashboard: (e) => ... }` (any channel; see `e.channel`). */
  listeners?: Record<string, Listener>;
  /** Accepted for compatibility; every type reaches `onEvent` now. */
  eventTypes?: string[];
  /** The bridge could not resume (`ssebridge.reset`): refetch your state. */
  onReset?: (info: ResetInfo) => void;
  onStatus?: (status: Status) => void;
  /** Status with attempt count, next retry time and the last error. */
  onState?: (state: ConnectionState) => void;
  /**
   * A channel this stream may not read (403, or 401 with no way to get a
   * credential), or an invalid one: it is dropped from the stream, which
   * goes on with the others.
   */
  onChannelError?: (channel: string, error: BridgeError) => void;
  /**
   * Failed connections (`BridgeError`, `ConnectionError`), `getTicket`
   * failures (`TicketError`), non-JSON payloads (`ParseError`), an admin
   * disconnect (`DisconnectedError`) and exceptions thrown by listeners.
   * Without it they are logged with `console.warn`; nothing is thrown.
   */
  onError?: (error: Error) => void;
  /**
   * A fresh one-time ticket for every (re)connect, from your backend
   * (which got it from `Tickets.IssueTicket`). Called again after
   * `ssebridge.auth_expired` or a 401.
   */
  getTicket?: () => Promise<string> | string;
  /** Resume after this id on the first connect (e.g. kept in sessionStorage). */
  lastEventId?: string;
  /**
   * This stream's name on the bridge (`?stream=`: 1-64 of `A-Z a-z 0-9 _ -`).
   * A connect with the same name and user closes the bridge's open stream
   * of that name first, so a stream replaced by its page is never counted
   * twice there. The hooks name each of their streams; `subscribe()` sends
   * none unless given one.
   */
  stream?: string;
  /** Parse payloads as JSON (default true). */
  json?: boolean;
  /** Send cookies cross-origin (fetch `credentials: 'include'`). */
  withCredentials?: boolean;
  backoff?: BackoffOptions;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Defaults to `Math.random` (jitter). */
  random?: () => number;
  /**
   * Opt-in: share one connection between all tabs of this origin that
   * subscribe with the same url, channels and key:
   * `acrossTabs({ key: userId, replayLatest: ['stats'] })` from
   * `@ssebridge/client/tabs`. All tabs sharing a key must be the same user.
   */
  shareAcrossTabs?: TabSharing;
}

/** How a subscription is shared between tabs (see `@ssebridge/client/tabs`). */
export interface TabSharing {
  open(options: SubscribeOptions, sink: Sink): Subscription;
}

export interface Subscription {
  close(): void;
  readonly status: Status;
  /** The id of the last event seen: where a reconnect resumes. */
  readonly lastEventId: string | undefined;
}

/** The bridge answered with an HTTP error (its JSON `error` and `message` included). */
export class BridgeError extends Error {
  constructor(
    /** HTTP status (400, 401, 403, 429, 503, ...). */
    readonly status: number,
    /** The bridge's `error` code, e.g. `permission_denied`. */
    readonly code: string,
    /** The bridge's `message`. */
    readonly detail: string,
    /** No retry will follow. */
    readonly permanent: boolean,
  ) {
    super(`HTTP ${status}${code ? ' ' + code : ''}: ${detail || 'no reason'}`);
    this.name = 'BridgeError';
  }
}

export class ParseError extends Error {
  constructor(
    readonly eventType: string,
    readonly raw: string,
    readonly id: string,
    cause: unknown,
    readonly channel = '',
  ) {
    super(`event '${eventType}' (id ${id || '-'}): data is not JSON: ${String(cause)}`);
    this.name = 'ParseError';
  }
}

/** The network failed, the stream ended, or it went silent (stale). */
export class ConnectionError extends Error {
  constructor(message: string, readonly attempt: number) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export class TicketError extends Error {
  constructor(readonly cause: unknown) {
    super(`getTicket failed: ${String(cause)}`);
    this.name = 'TicketError';
  }
}

export class DisconnectedError extends Error {
  constructor(readonly raw: string) {
    super('ssebridge.disconnected: ' + raw);
    this.name = 'DisconnectedError';
  }
}

export const RESET_EVENT = 'ssebridge.reset';
export const AUTH_EXPIRED_EVENT = 'ssebridge.auth_expired';
export const DISCONNECTED_EVENT = 'ssebridge.disconnected';
