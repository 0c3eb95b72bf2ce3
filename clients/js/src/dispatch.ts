import type { SseFrame } from './parser.js';
import {
  BridgeError,
  BridgeEvent,
  ConnectionState,
  ParseError,
  ResetInfo,
  SubscribeOptions,
} from './types.js';

/** What a connection (own or shared) reports, before parsing. */
export interface Sink {
  event(frame: SseFrame): void;
  reset(raw: string, id: string): void;
  state(state: ConnectionState): void;
  error(error: Error): void;
  channelError(channel: string, error: BridgeError): void;
  /** An id-only block moved the cursor (the end of a snapshot). */
  cursor?(id: string): void;
}

const toError = (x: unknown) => (x instanceof Error ? x : new Error(String(x)));

/** Reports an error to onError, or logs it: nothing is ever thrown at the page. */
export function reportError(options: SubscribeOptions, error: unknown): void {
  try {
    if (options.onError) return options.onError(toError(error));
  } catch (thrown) {
    error = thrown;
  }
  console.warn('ssebridge:', toError(error));
}

function call<T>(options: SubscribeOptions, fn: ((arg: T) => void) | undefined, arg: T) {
  try {
    fn?.(arg);
  } catch (thrown) {
    reportError(options, thrown);
  }
}

/** Parses a payload as JSON (or keeps the text); a ParseError instead of a throw. */
export function toEvent(f: SseFrame, json: boolean): BridgeEvent | ParseError {
  let data: unknown = f.data;
  if (json) {
    try {
      data = JSON.parse(f.data);
    } catch (cause) {
      return new ParseError(f.type, f.data, f.id, cause, f.channel);
    }
  }
  return { channel: f.channel, type: f.type, data, raw: f.data, id: f.id };
}

export function parseReset(raw: string, id: string): ResetInfo {
  try {
    return JSON.parse(raw) as ResetInfo;
  } catch {
    return { reason: 'unknown', head: id };
  }
}

/** Turns raw frames into the page's callbacks: JSON parsing, routing, resets. */
export function makeDispatcher(options: SubscribeOptions): Sink {
  const json = options.json !== false;
  let lastStatus: string | undefined;
  return {
    event(f) {
      const ev = toEvent(f, json);
      if (ev instanceof ParseError) return reportError(options, ev);
      call(options, options.listeners?.[ev.type], ev);
      call(options, options.onEvent, ev);
    },
    reset(raw, id) {
      call(options, options.onReset, parseReset(raw, id));
    },
    state(st) {
      call(options, options.onState, st);
      if (st.status === lastStatus) return;
      lastStatus = st.status;
      call(options, options.onStatus, st.status);
    },
    error(error) {
      reportError(options, error);
    },
    channelError(channel, error) {
      options.onChannelError ? call(options, () => options.onChannelError!(channel, error), 0) : reportError(options, error);
    },
  };
}
