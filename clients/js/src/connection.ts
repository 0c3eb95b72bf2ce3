import { Sink, eventTypesOf } from './dispatch.js';
import {
  AUTH_EXPIRED_EVENT,
  ConnectionError,
  DISCONNECTED_EVENT,
  DisconnectedError,
  EventSourceConstructor,
  EventSourceLike,
  RESET_EVENT,
  Status,
  SubscribeOptions,
  TicketError,
} from './types.js';

const CLOSED = 2;

/** The URL of one connect: channels, resume cursor, ticket. */
export function streamUrl(
  base: string,
  channels: string[],
  lastEventId?: string,
  ticket?: string,
): string {
  const params: string[] = channels.map((c) => `channel=${encodeURIComponent(c)}`);
  if (lastEventId) params.push(`lastEventId=${encodeURIComponent(lastEventId)}`);
  if (ticket) params.push(`ticket=${encodeURIComponent(ticket)}`);
  return base + (base.includes('?') ? '&' : '?') + params.join('&');
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(
  attempt: number,
  options: SubscribeOptions['backoff'] = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 30000;
  const factor = options.factor ?? 2;
  const cap = Math.min(max, initial * Math.pow(factor, attempt));
  // "Equal jitter": at least half the cap, so delays still grow; the random
  // half spreads a crowd of tabs that lost the same bridge.
  return cap / 2 + random() * (cap / 2);
}

/**
 * One EventSource, kept alive. The browser reconnects by itself (sending
 * Last-Event-ID) while it can; when it gives up (readyState CLOSED: a
 * non-200 answer such as 401/503), when a ticket must be renewed, or after
 * `ssebridge.auth_expired`, this class opens a new EventSource itself,
 * carrying the last id over as `lastEventId`, after a jittered backoff.
 */
export class Connection {
  private es: EventSourceLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private closed = false;
  private generation = 0;
  private cursor: string | undefined;
  private state: Status = 'connecting';

  constructor(
    private readonly options: SubscribeOptions,
    private readonly sink: Sink,
  ) {
    this.cursor = options.lastEventId || undefined;
  }

  get status(): Status {
    return this.state;
  }
  get lastEventId(): string | undefined {
    return this.cursor;
  }

  start(): void {
    void this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.es?.close();
    this.es = null;
    this.setStatus('closed');
  }

  private setStatus(status: Status) {
    this.state = status;
    this.sink.status(status);
  }

  private ctor(): EventSourceConstructor {
    const ctor =
      this.options.EventSource ??
      ((globalThis as any).EventSource as EventSourceConstructor | undefined);
    if (!ctor) throw new Error('ssebridge: no EventSource in this environment');
    return ctor;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    this.setStatus(generation === 1 ? 'connecting' : 'reconnecting');
    let ticket: string | undefined;
    if (this.options.getTicket) {
      try {
        ticket = await this.options.getTicket();
      } catch (cause) {
        if (this.closed || generation !== this.generation) return;
        this.sink.error(new TicketError(cause));
        this.scheduleReconnect();
        return;
      }
      if (this.closed || generation !== this.generation) return;
    }
    const url = streamUrl(this.options.url, this.options.channels, this.cursor, ticket);
    const es = new (this.ctor())(url, { withCredentials: !!this.options.withCredentials });
    this.es = es;
    const mine = () => this.es === es && !this.closed;

    es.onopen = () => {
      if (!mine()) return;
      this.attempt = 0;
      this.setStatus('open');
    };
    es.onerror = () => {
      if (!mine()) return;
      // A ticket works once: the browser's own retry would present the used
      // one and be refused, so with tickets the SDK always reconnects itself.
      if (es.readyState === CLOSED || this.options.getTicket) {
        es.close();
        this.es = null;
        this.sink.error(
          new ConnectionError(
            es.readyState === CLOSED && !this.options.getTicket
              ? 'the bridge refused or ended the stream; reconnecting with backoff'
              : 'the stream failed; reconnecting with a fresh ticket',
            this.attempt,
          ),
        );
        this.scheduleReconnect();
      } else {
        this.setStatus('reconnecting'); // the browser retries, with Last-Event-ID
      }
    };

    const onData = (type: string) => (ev: MessageEvent) => {
      if (!mine()) return;
      if (ev.lastEventId) this.cursor = ev.lastEventId;
      this.sink.event(type, String(ev.data), ev.lastEventId);
    };
    for (const type of eventTypesOf(this.options)) es.addEventListener(type, onData(type));
    es.addEventListener(RESET_EVENT, (ev: MessageEvent) => {
      if (!mine()) return;
      if (ev.lastEventId) this.cursor = ev.lastEventId;
      this.sink.reset(String(ev.data), ev.lastEventId);
    });
    es.addEventListener(AUTH_EXPIRED_EVENT, () => {
      if (!mine()) return;
      // The bridge ends the stream now: get a new credential and resume.
      es.close();
      this.es = null;
      this.attempt = 0;
      void this.connect();
    });
    es.addEventListener(DISCONNECTED_EVENT, (ev: MessageEvent) => {
      if (!mine()) return;
      this.sink.error(new DisconnectedError(String(ev.data)));
      this.close();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.setStatus('reconnecting');
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}
