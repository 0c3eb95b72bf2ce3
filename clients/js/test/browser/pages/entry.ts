// The test page: the SDK (from src/, bundled by esbuild) and a small React
// app, driven by the browser tests through window.t.
import { createElement, Fragment } from 'react';
import { createRoot } from 'react-dom/client';
import { subscribe, Subscription, SubscribeOptions } from '../../../src/index.js';
import { ChannelClient, ChannelProvider, useChannel } from '../../../src/react.js';

// Count the EventSources this page opens.
const NativeEventSource = window.EventSource;
let opened = 0;
(window as any).EventSource = class extends NativeEventSource {
  constructor(url: string | URL, init?: EventSourceInit) {
    super(url, init);
    opened++;
  }
};

type Entry = { kind: string; type?: string; data?: unknown; id?: string; status?: string; info?: unknown; error?: string };

const log: Entry[] = [];
let sub: Subscription | null = null;

function show(text: string) {
  const li = document.createElement('li');
  li.textContent = text;
  document.getElementById('events')!.appendChild(li);
}

const t = {
  log,
  opened: () => opened,
  /**
   * Subscribes; `types` become listeners; with `ticketUser`, tickets come
   * from the test through window.issueTicket (exposed by Playwright).
   */
  subscribe(opts: {
    url: string;
    channels: string[];
    types?: string[];
    ticketUser?: string;
    share?: boolean | { key?: string; replayLatest?: string[] };
    backoff?: SubscribeOptions['backoff'];
  }) {
    const listeners: Record<string, (e: any) => void> = {};
    for (const type of opts.types ?? []) {
      listeners[type] = (e) => {
        log.push({ kind: 'event', type: e.type, data: e.data, id: e.id });
        show(`${e.type} ${e.raw}`);
      };
    }
    sub = subscribe({
      url: opts.url,
      channels: opts.channels,
      listeners,
      onEvent: (e) => {
        if (e.type === 'message') {
          log.push({ kind: 'event', type: e.type, data: e.data, id: e.id });
          show(`${e.type} ${e.raw}`);
        }
      },
      onReset: (info) => log.push({ kind: 'reset', info }),
      onStatus: (status) => log.push({ kind: 'status', status }),
      onError: (err) => log.push({ kind: 'error', error: `${err.name}: ${err.message}` }),
      getTicket: opts.ticketUser
        ? () => (window as any).issueTicket(opts.ticketUser, opts.channels)
        : undefined,
      backoff: opts.backoff ?? { initialMs: 200, maxMs: 2000 },
      shareAcrossTabs: opts.share,
    });
  },
  isLeader: () => !!(sub as any)?.isLeader,
  close: () => sub?.close(),
  events: (type?: string) =>
    log.filter((e) => e.kind === 'event' && (!type || e.type === type)).map((e) => e.data),
  statuses: () => log.filter((e) => e.kind === 'status').map((e) => e.status),
  resets: () => log.filter((e) => e.kind === 'reset').map((e) => e.info),
  errors: () => log.filter((e) => e.kind === 'error').map((e) => e.error),

  /** A React app: `count` components on two channels, one shared connection. */
  renderReact(url: string, count: number) {
    const client = new ChannelClient({ url, backoff: { initialMs: 200 } });
    (t as any).client = client;
    function Stat(props: { i: number }) {
      const { data, status } = useChannel<{ value: number }>('dash', 'stats');
      return createElement('p', { id: `stat-${props.i}` }, `${status} ${data ? data.value : '-'}`);
    }
    function Task() {
      const { data, status } = useChannel<{ id: number }>('tasks', 'taskDone');
      return createElement('p', { id: 'task' }, `${status} ${data ? data.id : '-'}`);
    }
    const children = [createElement(Task, { key: 'task' })];
    for (let i = 0; i < count; i++) children.push(createElement(Stat, { key: i, i }));
    createRoot(document.getElementById('root')!).render(
      createElement(ChannelProvider, { client }, createElement(Fragment, null, ...children)),
    );
  },
};
(window as any).t = t;
