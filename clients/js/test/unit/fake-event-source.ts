// A stand-in for the browser's EventSource, for unit tests only: the test
// drives it (open, deliver frames, fail) and inspects what the SDK asked for.
export class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: FakeEventSource[] = [];
  static reset() {
    FakeEventSource.instances = [];
  }
  static last(): FakeEventSource {
    const es = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!es) throw new Error('no EventSource was created');
    return es;
  }

  readyState = FakeEventSource.CONNECTING;
  onopen: ((ev: any) => any) | null = null;
  onerror: ((ev: any) => any) | null = null;
  closedByClient = false;
  private listeners = new Map<string, ((ev: MessageEvent) => void)[]>();

  constructor(readonly url: string, readonly init?: { withCredentials?: boolean }) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    const list = this.listeners.get(type) ?? [];
    list.push(fn);
    this.listeners.set(type, list);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
    this.closedByClient = true;
  }
  get types(): string[] {
    return [...this.listeners.keys()].sort();
  }
  get params(): URLSearchParams {
    return new URL(this.url, 'http://page.test').searchParams;
  }

  // Test side.
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.({});
  }
  emit(type: string, data: string, lastEventId = '') {
    const ev = { type, data, lastEventId } as MessageEvent;
    for (const fn of this.listeners.get(type) ?? []) fn(ev);
  }
  /** The browser will retry by itself (network error while open). */
  dropAndRetry() {
    this.readyState = FakeEventSource.CONNECTING;
    this.onerror?.({});
  }
  /** The browser gave up (e.g. a 401 or 503 answer). */
  fail() {
    this.readyState = FakeEventSource.CLOSED;
    this.onerror?.({});
  }
}
