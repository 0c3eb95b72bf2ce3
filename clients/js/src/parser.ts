// A text/event-stream reader that follows the WHATWG "interpreting an event
// stream" algorithm, plus the two fields the bridge adds and EventSource
// ignores: `channel` (which channel an event belongs to) and `heartbeat`
// (how often an idle stream hears from the bridge, in ms). The SDK reads the
// stream with fetch and this parser instead of EventSource because
// EventSource drops unknown fields, hides id-only cursor blocks, and gives
// no HTTP status or error body.

/** One dispatched event, as the stream described it. */
export interface SseFrame {
  type: string;
  data: string;
  /** The last event id at dispatch (the stream's cursor). */
  id: string;
  /** The `channel` field of this event ('' when the stream named none). */
  channel: string;
}

export interface SseHandlers {
  event(frame: SseFrame): void;
  /** A block set the last event id without an event (an id-only cursor block). */
  cursor(id: string): void;
  retry?(ms: number): void;
  heartbeat?(ms: number): void;
}

export class SseParser {
  private buf = '';
  private afterCr = false;
  private started = false;
  private lines: string[] = [];
  private hasData = false;
  private kind = '';
  private chan = '';
  private idBuf = '';
  private lastId = '';
  private sawId = false;

  constructor(private readonly on: SseHandlers) {}

  /** Feeds decoded text (a TextDecoder in stream mode keeps UTF-8 intact). */
  feed(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.afterCr && i === start && this.buf === '') {
        // The LF of a CRLF whose CR ended the previous line.
        this.afterCr = false;
        start = i + 1;
        continue;
      }
      const line = this.buf + text.slice(start, i);
      this.buf = '';
      this.afterCr = c === 13;
      this.line(line);
      start = i + 1;
    }
    if (start < text.length) {
      this.afterCr = false;
      this.buf += text.slice(start);
    }
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    let name = line;
    let value = '';
    if (colon >= 0) {
      name = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (name) {
      case 'data':
        this.lines.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.kind = value;
        break;
      case 'id':
        if (!value.includes('\0')) (this.idBuf = value), (this.sawId = true);
        break;
      case 'channel':
        this.chan = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.on.retry?.(Number(value));
        break;
      case 'heartbeat':
        if (/^\d+$/.test(value)) this.on.heartbeat?.(Number(value));
        break;
    }
  }

  private dispatch(): void {
    const sawId = this.sawId;
    this.sawId = false;
    this.lastId = this.idBuf;
    const channel = this.chan;
    const type = this.kind || 'message';
    this.chan = '';
    this.kind = '';
    if (!this.hasData) {
      if (sawId) this.on.cursor(this.lastId);
      return;
    }
    const data = this.lines.join('\n');
    this.lines = [];
    this.hasData = false;
    this.on.event({ type, data, id: this.lastId, channel });
  }
}
