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

// The method is made in the constructor: its state lives in a closure,
// which minifies smaller than fields.
export interface SseParser {
  /** Feeds decoded text (a TextDecoder in stream mode keeps UTF-8 intact). */
  feed(text: string): void;
}

export class SseParser {
  constructor(on: SseHandlers) {
    let buf = '';
    let afterCr = false;
    let started = false;
    // The block being read: its data (undefined: no data line yet), type,
    // channel, and whether it had an id line. The id itself persists.
    let data: string | undefined;
    let type = '';
    let channel = '';
    let id = '';
    let sawId = false;
    const line = (line: string) => {
      if (!line) {
        if (data !== undefined) on.event({ type: type || 'message', data, id, channel });
        else if (sawId) on.cursor(id);
        data = undefined;
        type = channel = '';
        sawId = false;
        return;
      }
      // `name: value` (one space after the colon is dropped); no colon: all name.
      const [, name, value] = /^([^:]*):? ?([^]*)/.exec(line)!;
      if (name === 'data') data = data === undefined ? value : data + '\n' + value;
      else if (name === 'event') type = value;
      else if (name === 'channel') channel = value;
      else if (name === 'id' && !value.includes('\0')) (id = value), (sawId = true);
      else if ((name === 'retry' || name === 'heartbeat') && /^\d+$/.test(value)) on[name]?.(+value);
    };
    this.feed = (text) => {
      if (!text) return;
      if (!started) {
        started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      // The LF of a CRLF whose CR ended the previous chunk.
      if (afterCr && !buf && text[0] === '\n') text = text.slice(1);
      afterCr = text.endsWith('\r');
      const lines = (buf + text).split(/\r\n?|\n/);
      buf = lines.pop()!;
      lines.forEach(line);
    };
  }
}
