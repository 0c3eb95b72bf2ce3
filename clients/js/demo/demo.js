// The live demo page: dashboard figures (retained on the bridge, so a new
// tab shows them at once) and task-completion toasts for the signed-in demo
// user only, through the SDK in ./sdk (clients/js/dist).
import { subscribe } from './sdk/index.js';

const params = new URLSearchParams(location.search);
// The demo publisher plays the app backend that hands out tickets.
const ticketUrl = params.get('tickets') || `${location.protocol}//${location.hostname}:8081/ticket`;
let user = params.get('user') || sessionStorage.getItem('demo-user') || 'alice';
let sub = null;

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat('en-US');

function showStats(s) {
  $('activeUsers').textContent = fmt.format(s.activeUsers);
  $('ordersToday').textContent = fmt.format(s.ordersToday);
  $('revenue').textContent = '$' + fmt.format(s.revenue);
  $('queueDepth').textContent = fmt.format(s.queueDepth);
  $('updated').textContent = `updated ${s.updated}`;
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

function log(text) {
  $('log').textContent = text;
}

function signIn(next) {
  user = next;
  sessionStorage.setItem('demo-user', user);
  for (const b of document.querySelectorAll('.users button')) {
    b.classList.toggle('active', b.dataset.user === user);
  }
  $('toasts').replaceChildren();
  sub?.close();
  sub = subscribe({
    url: '/v1/events',
    channels: ['dashboard', 'tasks'],
    listeners: {
      stats: (e) => showStats(e.data),
      taskDone: (e) => toast(e.data),
    },
    onStatus: (s) => {
      $('status').textContent = s;
      $('status').className = s;
    },
    onReset: (info) => log(`history could not be resumed (${info.reason}); figures refreshed`),
    onError: (err) => log(`${err.name}: ${err.message}`),
    // A one-time ticket for the signed-in user, fetched again on every reconnect.
    getTicket: async () => {
      const r = await fetch(`${ticketUrl}?user=${encodeURIComponent(user)}`);
      if (!r.ok) throw new Error(`ticket endpoint answered ${r.status}`);
      return (await r.json()).ticket;
    },
    // All tabs of this user share one connection.
    shareAcrossTabs: { key: user, replayLatest: ['stats'] },
  });
}

for (const b of document.querySelectorAll('.users button')) {
  b.addEventListener('click', () => signIn(b.dataset.user));
}
signIn(user);
