// ssebridge browser SDK: subscribe to channels of an ssebridge with JSON
// parsing, resume, tickets, backoff, stale detection, per-channel errors and
// opt-in sharing of one connection between tabs (`./tabs`).
import { Connection } from './connection.js';
import { makeDispatcher } from './dispatch.js';
import { SubscribeOptions, Subscription } from './types.js';

export * from './types.js';
export { backoffDelay, streamUrl, Connection } from './connection.js';
export { SseParser } from './parser.js';
export type { SseFrame, SseHandlers } from './parser.js';
export type { Sink } from './dispatch.js';

/**
 * Opens a subscription and returns at once; events arrive through the
 * callbacks until `close()`.
 *
 * ```ts
 * const sub = subscribe({
 *   url: '/v1/events',
 *   channels: ['tasks', 'dashboard'],
 *   listeners: { taskDone: (e) => toast(e.data), stats: (e) => render(e.data) },
 *   onReset: () => refetchEverything(),
 *   onStatus: (s) => badge(s),
 *   onError: (err) => console.warn(err),
 *   getTicket: () => fetch('/api/sse-ticket').then((r) => r.text()),
 * });
 * ```
 */
export function subscribe(options: SubscribeOptions): Subscription {
  if (!options.url) throw new TypeError('subscribe: url is required');
  if (!options.channels?.length) {
    throw new TypeError('subscribe: at least one channel is required');
  }
  const sink = makeDispatcher(options);
  if (options.shareAcrossTabs) return options.shareAcrossTabs.open(options, sink);
  const connection = new Connection(options, sink);
  connection.start();
  return connection;
}
