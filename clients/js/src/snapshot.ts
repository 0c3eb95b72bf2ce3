import { Connection } from './connection.js';
import type { SseFrame } from './parser.js';
import type { SubscribeOptions } from './types.js';

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
 * Resolves undefined on the first failure or after `timeoutMs`; the caller
 * then goes on without retained values rather than not at all.
 */
export function readSnapshot(
  options: SubscribeOptions,
  channels: string[],
  timeoutMs = 10000,
): Promise<Snapshot | undefined> {
  return new Promise((resolve) => {
    const events: SseFrame[] = [];
    const done = (s?: Snapshot) => {
      clearTimeout(timer);
      c.close();
      resolve(s);
    };
    const c: Connection = new Connection({ ...options, channels, lastEventId: undefined }, {
      event: (f) => events.push(f),
      cursor: (head) => done({ events, head }),
      reset() {},
      state: (st) => st.error && done(),
      error() {},
      channelError: () => done(),
    });
    const timer = setTimeout(done, timeoutMs);
    c.start();
  });
}

/** `<epoch>-<seq>` → [epoch, seq]; undefined for anything else. */
export function splitId(id: string): [string, number] | undefined {
  const dash = id.lastIndexOf('-');
  const seq = Number(id.slice(dash + 1));
  return dash > 0 && Number.isFinite(seq) ? [id.slice(0, dash), seq] : undefined;
}
