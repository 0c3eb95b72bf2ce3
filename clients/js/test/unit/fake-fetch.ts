// A stand-in for fetch, for unit tests only: every call is recorded; the
// test answers it with a status and JSON body, or with a stream it feeds
// text into and ends.
export interface FakeCall {
  url: string;
  init: any;
  aborted: boolean;
  /** Answers with an HTTP error (and optional JSON body / headers). */
  refuse(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Answers 200 with an event stream; returns the writer. */
  open(): { push(text: string): void; end(): void };
  /** The request fails at the network level. */
  fail(error?: Error): void;
}

export class FakeFetch {
  calls: FakeCall[] = [];

  last(): FakeCall {
    const c = this.calls[this.calls.length - 1];
    if (!c) throw new Error('no fetch was made');
    return c;
  }

  fetch = (url: string, init: any): Promise<any> =>
    new Promise((resolve, reject) => {
      const encoder = new TextEncoder();
      const call: FakeCall = {
        url,
        init,
        aborted: false,
        refuse(status, body, headers = {}) {
          resolve({
            ok: false,
            status,
            headers: { get: (n: string) => headers[n] ?? null },
            body: null,
            text: async () => (typeof body === 'string' ? body : JSON.stringify(body ?? {})),
          });
        },
        open() {
          let controller!: ReadableStreamDefaultController<Uint8Array>;
          const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
          init.signal.addEventListener('abort', () => {
            try {
              controller.error(new DOMException('aborted', 'AbortError'));
            } catch {
              /* already closed */
            }
          });
          resolve({ ok: true, status: 200, headers: { get: () => null }, body, text: async () => '' });
          return {
            push: (text: string) => controller.enqueue(encoder.encode(text)),
            end: () => controller.close(),
          };
        },
        fail(error = new TypeError('Failed to fetch')) {
          reject(error);
        },
      };
      init.signal.addEventListener('abort', () => {
        call.aborted = true;
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.calls.push(call);
    });
}
