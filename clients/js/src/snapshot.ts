import { streamUrl } from './connection.js';
import { SseFrame, SseParser } from './parser.js';
import type { FetchLike, SubscribeOptions } from './types.js';

export interface Snapshot {
  /** The retained values of the channels, in the order the bridge sent them. */
  events: SseFrame[];
  /** The bridge's head id when the snapshot was taken: where live events start. */
  head: string;
}

/**
 * Reads just the snapshot of `channels` (their retained values, ended by the
 * bridge's id-only head cursor) over a short-lived stream, then closes it.
 * Used when a page adds channels to a running connection: the kept channels
 * resume from their cursor, and only the added ones need a snapshot.
 * Resolves undefined on any failure or after `timeoutMs`; the caller then
 * goes on without retained values rather than not at all.
 */
export async function readSnapshot(
  options: SubscribeOptions,
  channels: string[],
  timeoutMs = 10000,
): Promise<Snapshot | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const ticket = options.getTicket ? await options.getTicket() : undefined;
    const fetchFn: FetchLike = options.fetch ?? (globalThis as any).fetch.bind(globalThis);
    const res = await fetchFn(streamUrl(options.url, channels, undefined, ticket), {
      headers: { Accept: 'text/event-stream' },
      credentials: options.withCredentials ? 'include' : 'same-origin',
      signal: abort.signal,
      cache: 'no-store',
    });
    if (!res.ok || !res.body) return undefined;
    const events: SseFrame[] = [];
    let head: string | undefined;
    const parser = new SseParser({
      event: (f) => {
        if (head === undefined && !f.type.startsWith('ssebridge.')) events.push(f);
      },
      cursor: (id) => {
        if (head === undefined) head = id;
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    while (head === undefined) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    return { events, head };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** `<epoch>-<seq>` → [epoch, seq]; undefined for anything else. */
export function splitId(id: string): [string, number] | undefined {
  const dash = id.lastIndexOf('-');
  const seq = Number(id.slice(dash + 1));
  return dash > 0 && Number.isFinite(seq) ? [id.slice(0, dash), seq] : undefined;
}
