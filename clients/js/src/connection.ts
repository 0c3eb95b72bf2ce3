import { Sink } from './dispatch.js';
import { SseParser } from './parser.js';
import {
  AUTH_EXPIRED_EVENT,
  BridgeError,
  ConnectionError,
  ConnectionState,
  DISCONNECTED_EVENT,
  DisconnectedError,
  FetchLike,
  RESET_EVENT,
  Status,
  SubscribeOptions,
  TicketError,
} from './types.js';

/** The URL of one connect: channels, resume cursor, ticket, stream name. */
export function streamUrl(
  base: string,
  channels: string[],
  lastEventId?: string,
  ticket?: string,
  stream?: string,
): string {
  const params: string[] = channels.map((c) => `channel=${encodeURIComponent(c)}`);
  if (lastEventId) params.push(`lastEventId=${encodeURIComponent(lastEventId)}`);
  if (ticket) params.push(`ticket=${encodeURIComponent(ticket)}`);
  // A valid name needs no escaping; an invalid one gets the bridge's 400.
  if (stream) params.push('stream=' + stream);
  return base + (base.includes('?') ? '&' : '?') + params.join('&');
}

/** Delay before retry `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(
  attempt: number,
  options: SubscribeOptions['backoff'] = {},
  random: () => number = Math.random,
): number {
  // Defaults: 1 s, doubling, at most 30 s.
  const cap = Math.min(options.maxMs ?? 30000, (options.initialMs ?? 1000) * (options.factor ?? 2) ** attempt);
  // "Equal jitter": at least half the cap, so delays still grow; the random
  // half spreads a crowd of tabs that lost the same bridge.
  return cap / 2 + random() * (cap / 2);
}

// Until the bridge names its heartbeat (first bytes of the stream), a silent
// connect is given up after this long.
const DEFAULT_HEARTBEAT_MS = 15000;

/**
 * One stream, kept alive: fetch + the SDK's own event-stream parser (see
 * parser.ts for why not EventSource). Every reconnect resumes from the
 * last id seen, id-only cursor blocks included, so nothing from before the
 * subscription is replayed. HTTP errors are classified: permanent ones
 * (400, 403, 404, a 401 with no `getTicket`) stop retrying, and when the
 * refusal names one channel of several, that channel alone is dropped;
 * transient ones (network, 429, 5xx, the stream ending or going silent for
 * twice the heartbeat) are retried with jittered backoff.
 */
export class Connection {
  private ctl?: AbortController;
  private timer?: ReturnType<typeof setTimeout>;
  private watchdog?: ReturnType<typeof setTimeout>;
  private tries = 0;
  private closed = false;
  private generation = 0;
  private last: string | undefined;
  private chans: string[];
  private retryHintMs: number | undefined;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private stale = false;
  private st: ConnectionState = { status: 'connecting', attempt: 0 };

  constructor(
    private readonly opts: SubscribeOptions,
    private readonly sink: Sink,
  ) {
    this.last = opts.lastEventId || undefined;
    this.chans = [...opts.channels];
  }

  get status(): Status {
    return this.st.status;
  }
  get state(): ConnectionState {
    return this.st;
  }
  get lastEventId(): string | undefined {
    return this.last;
  }
  /** The channels still read (refused ones are dropped). */
  get activeChannels(): string[] {
    return this.chans;
  }

  start(): void {
    this.setState(this.st);
    void this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.halt();
    this.setState({ status: 'closed', attempt: this.tries });
  }

  private halt() {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.ctl?.abort();
  }

  private setState(st: ConnectionState) {
    this.st = st;
    this.sink.state(st);
  }

  // A stream (or a connect) that hears nothing for twice the heartbeat is
  // dead even if TCP says otherwise: a frozen bridge, a dropped route.
  private arm(generation: number) {
    clearTimeout(this.watchdog);
    const limit = 2 * this.heartbeatMs;
    this.watchdog = setTimeout(() => {
      if (generation !== this.generation || this.closed) return;
      this.stale = true;
      this.fail(new ConnectionError(`no data for ${limit} ms (heartbeat ${this.heartbeatMs} ms): stale`, this.tries));
    }, limit);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    const mine = () => generation === this.generation && !this.closed;
    let ticket: string | undefined;
    if (this.opts.getTicket) {
      try {
        ticket = await this.opts.getTicket();
      } catch (cause) {
        if (mine()) this.fail(new TicketError(cause));
        return;
      }
      if (!mine()) return;
    }
    const abort = new AbortController();
    this.ctl = abort;
    this.arm(generation);
    const fetchFn: FetchLike = this.opts.fetch ?? fetch;
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await fetchFn(streamUrl(this.opts.url, this.chans, this.last, ticket, this.opts.stream), {
        headers: { Accept: 'text/event-stream' },
        credentials: this.opts.withCredentials ? 'include' : 'same-origin',
        signal: abort.signal,
        cache: 'no-store',
      });
    } catch (cause) {
      if (mine()) this.fail(new ConnectionError(`cannot reach the bridge: ${String(cause)}`, this.tries));
      return;
    }
    if (!mine()) return;
    if (!res.ok) return this.refused(res, generation);
    if (!res.body) return this.fail(new ConnectionError('the answer has no body', this.tries));

    this.tries = 0;
    this.stale = false;
    this.setState({ status: 'open', attempt: 0 });
    const parser = new SseParser({
      event: (f) => {
        if (!mine()) return;
        if (f.id) this.last = f.id;
        if (f.type === RESET_EVENT) return this.sink.reset(f.data, f.id);
        if (f.type === AUTH_EXPIRED_EVENT) {
          // The bridge ends the stream now: get a new credential and resume.
          this.halt();
          void this.connect();
          return;
        }
        if (f.type === DISCONNECTED_EVENT) {
          this.sink.error(new DisconnectedError(f.data));
          return this.close();
        }
        this.sink.event(f);
      },
      cursor: (id) => {
        if (mine() && id) this.last = id;
        if (mine()) this.sink.cursor?.(id);
      },
      retry: (ms) => (this.retryHintMs = ms),
      heartbeat: (ms) => {
        if (ms > 0) this.heartbeatMs = ms;
        this.arm(generation);
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (!mine()) return void reader.cancel().catch(() => {});
        if (done) break;
        this.arm(generation);
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (cause) {
      if (mine()) this.fail(new ConnectionError(`the stream broke: ${String(cause)}`, this.tries));
      return;
    }
    if (mine()) this.fail(new ConnectionError('the bridge ended the stream', this.tries), this.retryHintMs);
  }

  private async refused(res: Awaited<ReturnType<FetchLike>>, generation: number) {
    let code = '';
    let detail = '';
    try {
      const body = JSON.parse(await res.text());
      code = String(body.error ?? '');
      detail = String(body.message ?? '');
    } catch {
      /* not the bridge's JSON (a proxy's page): the status says enough */
    }
    if (generation !== this.generation || this.closed) return;
    const status = res.status;
    const canRefresh = status === 401 && !!this.opts.getTicket;
    const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429 && !canRefresh;
    const error = new BridgeError(status, code, detail, permanent);
    // A refusal that names one channel of several (`channel 'x' is ...`).
    const channel = /channel '([^']*)'/.exec(detail)?.[1]!;
    if (permanent && this.chans.includes(channel) && this.chans.length > 1) {
      // Only this channel is refused: go on with the others at once.
      this.chans = this.chans.filter((c) => c !== channel);
      this.sink.channelError(channel, error);
      return void this.connect();
    }
    if (permanent) return this.permanent(error);
    this.fail(error, 1000 * Number(res.headers.get('Retry-After')) || 0);
  }

  private permanent(error: Error) {
    this.halt();
    this.closed = true;
    this.sink.error(error);
    this.setState({ status: 'error', attempt: this.tries, error });
  }

  /** A transient failure: report it and retry after a jittered backoff (at least `minMs`). */
  private fail(error: Error, minMs?: number): void {
    if (this.closed) return;
    this.halt();
    this.generation++;
    this.sink.error(error);
    const delay = Math.max(minMs ?? 0, backoffDelay(this.tries, this.opts.backoff, this.opts.random));
    this.tries++;
    this.setState({ status: this.stale ? 'stale' : 'reconnecting', attempt: this.tries, nextRetryAt: Date.now() + delay, error });
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
