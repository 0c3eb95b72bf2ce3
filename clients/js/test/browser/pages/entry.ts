// The test page: the SDK (from src/, bundled by esbuild) and a small React
// app, driven by the browser tests through window.t.
import { createElement, Fragment, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { subscribe, Subscription, SubscribeOptions } from '../../../src/index.js';
import { ChannelClient, ChannelProvider, useChannel } from '../../../src/react.js';
import { acrossTabs } from '../../../src/tabs.js';

// Count (and keep the URLs of) the streams this page opens.
const nativeFetch = window.fetch.bind(window);
let opened = 0;
const streamUrls: string[] = [];
window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url.includes('/v1/events')) {
    opened++;
    streamUrls.push(url);
    // Streams the page holds now: from the request until it is aborted.
    live++;
    maxLive = Math.max(maxLive, live);
    init?.signal?.addEventListener('abort', () => live--, { once: true });
  }
  return nativeFetch(input, init);
};
let live = 0;
let maxLive = 0;

type Entry = { kind: string; channel?: string; type?: string; data?: unknown; id?: string; status?: string; at?: number; info?: unknown; error?: string };

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
  /** The most streams the page held at once (reset by reading). */
  maxLive: () => [maxLive, (maxLive = live)][0],
  streamUrls: () => streamUrls,
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
        log.push({ kind: 'event', channel: e.channel, type: e.type, data: e.data, id: e.id });
        show(`${e.type} ${e.raw}`);
      };
    }
    sub = subscribe({
      url: opts.url,
      channels: opts.channels,
      listeners,
      onEvent: (e) => {
        if (e.type === 'message') {
          log.push({ kind: 'event', channel: e.channel, type: e.type, data: e.data, id: e.id });
          show(`${e.type} ${e.raw}`);
        }
      },
      onReset: (info) => log.push({ kind: 'reset', info }),
      onStatus: (status) => log.push({ kind: 'status', status, at: Date.now() }),
      onError: (err) => log.push({ kind: 'error', error: `${err.name}: ${err.message}` }),
      getTicket: opts.ticketUser
        ? () => (window as any).issueTicket(opts.ticketUser, opts.channels)
        : undefined,
      backoff: opts.backoff ?? { initialMs: 200, maxMs: 2000 },
      shareAcrossTabs: opts.share ? acrossTabs(opts.share === true ? {} : opts.share) : undefined,
    });
  },
  isLeader: () => !!(sub as any)?.isLeader,
  close: () => sub?.close(),
  events: (type?: string) =>
    log.filter((e) => e.kind === 'event' && (!type || e.type === type)).map((e) => e.data),
  statuses: () => log.filter((e) => e.kind === 'status').map((e) => e.status),
  statusLog: () => log.filter((e) => e.kind === 'status').map((e) => [e.status, e.at]),
  eventsOf: (channel: string) =>
    log.filter((e) => e.kind === 'event' && e.channel === channel).map((e) => e.data),
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

  /**
   * A React app of hooks `{id, channel, type}` on one ChannelClient; the
   * test changes the mounted hooks with setHooks and reads each hook's
   * events, resets, statuses and current state with hook(id).
   */
  renderHooks(
    opts: { url: string; ticketUser?: string; ticketChannels?: string[]; maxChannelsPerConnection?: number; lingerMs?: number },
    hooks: HookSpec[],
  ) {
    const client = new ChannelClient({
      url: opts.url,
      backoff: { initialMs: 200, maxMs: 2000 },
      lingerMs: opts.lingerMs ?? 0,
      maxChannelsPerConnection: opts.maxChannelsPerConnection,
      getTicket: opts.ticketUser
        ? () => (window as any).issueTicket(opts.ticketUser, opts.ticketChannels)
        : undefined,
      onError: (err) => log.push({ kind: 'error', error: `${err.name}: ${err.message}` }),
    });
    (t as any).client = client;
    function Hook(props: { spec: HookSpec }) {
      const { id, channel, type } = props.spec;
      const rec = (hookLog[id] ??= { events: [], resets: [], statuses: [] });
      const s = useChannel(channel, type, {
        onEvent: (e) => rec.events.push({ channel: e.channel, type: e.type, data: e.data, id: e.id }),
        onReset: (info) => rec.resets.push(info),
      });
      if (rec.statuses[rec.statuses.length - 1] !== s.status) rec.statuses.push(s.status);
      rec.now = {
        status: s.status,
        data: s.data,
        channel: s.event?.channel,
        error: s.error ? { name: s.error.name, message: s.error.message, status: (s.error as any).status, code: (s.error as any).code } : undefined,
        attempt: s.attempt,
      };
      return createElement('p', { id: `hook-${id}` }, `${s.status} ${JSON.stringify(s.data ?? null)}`);
    }
    function App() {
      const [list, set] = useState(hooks);
      setHooks = set;
      return createElement(
        ChannelProvider,
        { client },
        createElement(Fragment, null, ...list.map((h) => createElement(Hook, { key: h.id, spec: h }))),
      );
    }
    createRoot(document.getElementById('root')!).render(createElement(App));
  },
  setHooks: (hooks: HookSpec[]) => setHooks?.(hooks),
  hook: (id: string) => hookLog[id],
};
(window as any).t = t;

type HookSpec = { id: string; channel: string; type: string };
type HookRecord = {
  events: { channel: string; type: string; data: unknown; id: string }[];
  resets: unknown[];
  statuses: string[];
  now?: { status: string; data: unknown; channel?: string; error?: { name: string; message: string; status?: number; code?: string }; attempt: number };
};
const hookLog: Record<string, HookRecord> = {};
let setHooks: ((h: HookSpec[]) => void) | null = null;
