/** Connection state as the page should show it. */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One event from the bridge. */
export interface BridgeEvent<T = unknown> {
  /** The SSE event type (`message` when the publisher left `event` empty). */
  type: string;
  /** The payload, parsed as JSON (or the raw text with `json: false`). */
  data: T;
  /** The payload exactly as received. */
  raw: string;
  /** The event id, `<epoch>-<seq>`: the resume cursor. */
  id: string;
}

/** The body of an `ssebridge.reset` event: history did not reach back. */
export interface ResetInfo {
  /** e.g. `cursor_too_old`, `epoch_changed`, or `resubscribed` (the SDK's own). */
  reason: string;
  cursor?: string;
  head?: string;
  [key: string]: unknown;
}

export type Listener<T = unknown> = (event: BridgeEvent<T>) => void;

/** The part of the browser's EventSource the SDK uses (injectable for tests and polyfills). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((this: any, ev: any) => any) | null;
  onerror: ((this: any, ev: any) => any) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

export interface BackoffOptions {
  /** First delay before the SDK reconnects itself, in ms (default 1000). */
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
  /**
   * Every `message` event, plus every event type named in `listeners` or
   * `eventTypes` (EventSource only dispatches named types it was asked for).
   */
  onEvent?: Listener;
  /** Per event type: `{ taskDone: (e) => ..., dashboard: (e) => ... }`. */
  listeners?: Record<string, Listener>;
  /** More event types to deliver to `onEvent`. */
  eventTypes?: string[];
  /** The bridge could not resume (`ssebridge.reset`): refetch your state. */
  onReset?: (info: ResetInfo) => void;
  onStatus?: (status: Status) => void;
  /**
   * Parse errors (`ParseError`), failed connections (`ConnectionError`),
   * `getTicket` failures (`TicketError`), an admin disconnect
   * (`DisconnectedError`), and exceptions thrown by listeners. Without it
   * they are rethrown asynchronously (so they reach `window.onerror`).
   */
  onError?: (error: Error) => void;
  /**
   * A fresh one-time ticket for every (re)connect, from your backend
   * (which got it from `Tickets.IssueTicket`). Called again after
   * `ssebridge.auth_expired` or a refused connection.
   */
  getTicket?: () => Promise<string> | string;
  /** Resume after this id on the first connect (e.g. kept in sessionStorage). */
  lastEventId?: string;
  /** Parse payloads as JSON (default true). */
  json?: boolean;
  /** Send cookies cross-origin (EventSource `withCredentials`). */
  withCredentials?: boolean;
  backoff?: BackoffOptions;
  /** Defaults to the global `EventSource`. */
  EventSource?: EventSourceConstructor;
  /** Defaults to `Math.random` (jitter). */
  random?: () => number;
  /**
   * Opt-in: share one connection between all tabs of this origin that
   * subscribe with the same url, channels and key. Needs Web Locks and
   * BroadcastChannel; without them the tab opens its own connection.
   * All tabs sharing a key must be the same user: use the user id as key.
   * `replayLatest`: event types whose latest value a tab that joins later
   * gets from the leader at once (dashboard figures, not notifications).
   */
  shareAcrossTabs?: boolean | { key?: string; replayLatest?: string[] };
}

export interface Subscription {
  close(): void;
  readonly status: Status;
  /** The id of the last event seen: where a reconnect resumes. */
  readonly lastEventId: string | undefined;
}

export class ParseError extends Error {
  constructor(
    readonly eventType: string,
    readonly raw: string,
    readonly id: string,
    cause: unknown,
  ) {
    super(`event '${eventType}' (id ${id || '-'}): data is not JSON: ${String(cause)}`);
    this.name = 'ParseError';
  }
}

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
    super('the bridge ended this stream (ssebridge.disconnected)');
    this.name = 'DisconnectedError';
  }
}

export const RESET_EVENT = 'ssebridge.reset';
export const AUTH_EXPIRED_EVENT = 'ssebridge.auth_expired';
export const DISCONNECTED_EVENT = 'ssebridge.disconnected';
