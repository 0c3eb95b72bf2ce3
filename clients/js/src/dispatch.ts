import {
  BridgeEvent,
  ParseError,
  ResetInfo,
  Status,
  SubscribeOptions,
} from './types.js';

/** What a connection (own or shared) reports, before parsing. */
export interface Sink {
  event(type: string, raw: string, id: string): void;
  reset(raw: string, id: string): void;
  status(status: Status): void;
  error(error: Error): void;
}

/** The event types a subscription asks EventSource for (besides control events). */
export function eventTypesOf(options: SubscribeOptions): string[] {
  const types = new Set<string>(['message']);
  for (const t of Object.keys(options.listeners ?? {})) types.add(t);
  for (const t of options.eventTypes ?? []) types.add(t);
  return [...types].sort();
}

/** Reports an error to onError, or rethrows it where the page will see it. */
export function reportError(options: SubscribeOptions, error: Error): void {
  if (options.onError) {
    try {
      options.onError(error);
      return;
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
    }
  }
  setTimeout(() => {
    throw error;
  }, 0);
}

function call<T>(options: SubscribeOptions, fn: ((arg: T) => void) | undefined, arg: T) {
  if (!fn) return;
  try {
    fn(arg);
  } catch (thrown) {
    reportError(options, thrown instanceof Error ? thrown : new Error(String(thrown)));
  }
}

/** Turns raw frames into the page's callbacks: JSON parsing, routing, resets. */
export function makeDispatcher(options: SubscribeOptions): Sink {
  const json = options.json !== false;
  const routedToOnEvent = new Set(options.eventTypes ?? []);
  routedToOnEvent.add('message');
  let lastStatus: Status | undefined;
  return {
    event(type, raw, id) {
      let data: unknown = raw;
      if (json) {
        try {
          data = JSON.parse(raw);
        } catch (cause) {
          reportError(options, new ParseError(type, raw, id, cause));
          return;
        }
      }
      const ev: BridgeEvent = { type, data, raw, id };
      const listener = options.listeners?.[type];
      call(options, listener, ev);
      if (options.onEvent && (listener || routedToOnEvent.has(type))) {
        call(options, options.onEvent, ev);
      }
    },
    reset(raw, id) {
      let info: ResetInfo;
      try {
        info = JSON.parse(raw) as ResetInfo;
      } catch {
        info = { reason: 'unknown', head: id };
      }
      call(options, options.onReset, info);
    },
    status(status) {
      if (status === lastStatus) return;
      lastStatus = status;
      call(options, options.onStatus, status);
    },
    error(error) {
      reportError(options, error);
    },
  };
}
