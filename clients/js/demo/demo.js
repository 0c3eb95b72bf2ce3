// The live demo page: dashboard figures (retained on the bridge, so a new
// tab shows them at once) and task-completion toasts for the signed-in demo
// user only, through the SDK in ./sdk (clients/js/dist).
import { subscribe } from './sdk/index.js';
import { acrossTabs } from './sdk/tabs.js';

const params = new URLSearchParams(location.search);
let user = params.get('user') || sessionStorage.getItem('demo-user') || 'alice';
let sub = null;
let retryTimer = null;

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat('en-US');

// Where tickets come from: ?tickets=<url> wins; otherwise config.json next
// to this page (scripts/demo.sh writes it with the demo publisher's port).
async function ticketUrl() {
  if (params.get('tickets')) return params.get('tickets');
  const config = await fetch('config.json', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : {}), () => ({}));
  if (config.tickets) return config.tickets;
  const port = config.ticketPort;
  return port ? `${location.protocol}//${location.hostname}:${port}/ticket` : '/ticket';
}

function showStats(s) {
  $('activeUsers').textContent = fmt.format(s.activeUsers);
  $('ordersToday').textContent = fmt.format(s.ordersToday);
  $('revenue').textContent = '$' + fmt.format(s.revenue);
  $('queueDepth').textContent = fmt.format(s.queueDepth);
  $('updated').textContent = `updated ${s.updated}`;
}

function clearStats() {
  for (const id of ['activeUsers', 'ordersToday', 'revenue', 'queueDepth']) $(id).textContent = '–';
  $('updated').textContent = 'refreshing…';
}

function toast(t) {
  const el = document.createElement('div');
  el.className = 'toast';
  el.dataset.user = t.user;
  el.innerHTML = '<b></b><small></small>';
  el.querySelector('b').textContent = `✓ ${t.title} finished`;
  el.querySelector('small').textContent = `task #${t.task} for ${t.user} · ${t.seconds}s`;
  $('toasts').prepend(el);
  while ($('toasts').children.length > 4) $('toasts').lastChild.remove();
  setTimeout(() => el.remove(), 15000);
}

function note(text) {
  $('log').textContent = text;
}

// What an end user should read, not the SDK's error text.
function explain(state) {
  clearInterval(retryTimer);
  const status = state.status;
  $('status').textContent = status;
  $('status').className = status;
  document.body.classList.toggle('live', status === 'open');
  if (status === 'open') return note('');
  if (status === 'error') {
    const e = state.error;
    return note(
      e && e.status === 403
        ? 'You are not allowed to see these figures.'
        : 'The live feed is unavailable. Reload the page to try again.',
    );
  }
  if (status === 'stale') note('No news from the server for a while: figures may be out of date. Reconnecting…');
  if (status === 'reconnecting' || status === 'stale') {
    const tick = () => {
      const left = Math.max(0, Math.ceil(((state.nextRetryAt || 0) - Date.now()) / 1000));
      note(
        (status === 'stale' ? 'Figures may be out of date. ' : 'Connection lost. ') +
          (left > 0 ? `Retrying in ${left} s (attempt ${state.attempt}).` : 'Reconnecting…'),
      );
    };
    tick();
    retryTimer = setInterval(tick, 500);
  }
}

async function signIn(next) {
  user = next;
  sessionStorage.setItem('demo-user', user);
  for (const b of document.querySelectorAll('.users button')) {
    b.classList.toggle('active', b.dataset.user === user);
  }
  $('toasts').replaceChildren();
  sub?.close();
  const tickets = await ticketUrl();
  sub = subscribe({
    url: '/v1/events',
    channels: ['dashboard', 'tasks'],
    listeners: {
      stats: (e) => showStats(e.data),
      taskDone: (e) => toast(e.data),
    },
    onState: explain,
    // History could not be resumed (the bridge restarted): drop what we
    // show; the retained figures follow at once.
    onReset: () => clearStats(),
    onError: (err) => console.warn('ssebridge demo:', err),
    // A one-time ticket for the signed-in user, fetched again on every reconnect.
    getTicket: async () => {
      const r = await fetch(`${tickets}?user=${encodeURIComponent(user)}`);
      if (!r.ok) throw new Error(`ticket endpoint answered ${r.status}`);
      return (await r.json()).ticket;
    },
    // All tabs of this user share one connection.
    shareAcrossTabs: acrossTabs({ key: user, replayLatest: ['stats'] }),
  });
}

for (const b of document.querySelectorAll('.users button')) {
  b.addEventListener('click', () => signIn(b.dataset.user));
}
signIn(user);
