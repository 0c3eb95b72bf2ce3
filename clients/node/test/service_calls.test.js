// Publisher beyond publish(), against the real bridge with keys on: the
// ticket login end to end, publishBatch with a refused request in the
// middle, Admin getStats (with and without the fleet) / disconnectUser,
// AbortSignal, and the same PublishError for every failure.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Publisher, PublishError, status } from '../src/index.js';
import { startBridge, subscribe, tempFile } from './helpers.js';

const PUBLISHER_KEY = 'node-calls-publisher-0123456789';
const ADMIN_KEY = 'node-calls-admin-0123456789abcd';

// Opens GET /v1/events with a ticket; resolves with the response.
function openWithTicket(port, channel, ticket) {
  return new Promise((resolve, reject) => {
    const q = new URLSearchParams({ channel, ticket });
    http.get({ host: '127.0.0.1', port, path: `/v1/events?${q}` }, resolve).on('error', reject);
  });
}

let publicAdmin;
function adminOnPublic(bridge) {
  publicAdmin = publicAdmin ?? new Publisher({ target: bridge.target, token: ADMIN_KEY });
  return publicAdmin;
}

describe('Publisher service calls', () => {
  let bridge;
  let app;
  let admin;
  before(async () => {
    bridge = await startBridge({ flags: [
      `--publisher_keys_file=${tempFile('publishers', `app ${PUBLISHER_KEY}\n`)}`,
      `--admin_keys_file=${tempFile('admins', `ops ${ADMIN_KEY}\n`)}`] });
    app = new Publisher({ target: bridge.target, token: PUBLISHER_KEY });
    // Admin is served on the internal port only.
    admin = new Publisher({ target: bridge.adminTarget, token: ADMIN_KEY });
  });
  after(async () => {
    app.close();
    admin.close();
    publicAdmin?.close();
    await bridge.stop();
  });

  test('ticket login end to end, then the admin calls', async () => {
    const { ticket, expiresAt } = await app.issueTicket({ userId: 'alice', channels: ['orders.*'] });
    assert.ok(ticket.length > 0);
    assert.ok(expiresAt instanceof Date && expiresAt > new Date());
    const res = await openWithTicket(bridge.httpPort, 'orders.7', ticket);
    assert.equal(res.statusCode, 200);
    let body = '';
    const got = new Promise((resolve) => res.on('data', (c) => {
      body += c.toString();
      if (body.includes('for alice')) resolve();
    }));
    const ack = await app.publish({ channel: 'orders.7', data: 'for alice', userIds: ['alice'] });
    await got;
    assert.ok(body.includes(`id: ${ack.id}`));
    const stats = await admin.getStats({ maxChannels: 5 });
    assert.equal(stats.users, 1);
    assert.equal(stats.connections, 1);
    assert.deepEqual(stats.channelStats.map((c) => c.channel), ['orders.7']);
    assert.equal(await admin.disconnectUser('alice'), 1);
    res.destroy();
  });

  test('publishBatch answers each request in order', async () => {
    const sse = await subscribe(bridge.httpPort, ['b']);
    try {
      const results = await app.publishBatch([
        { channel: 'b', data: '1' }, { channel: 'bad channel', data: '2' }, { channel: 'b', data: '3' }]);
      assert.equal(results.length, 3);
      assert.ok(results[0].ack && !results[0].error);
      assert.ok(results[1].error instanceof PublishError);
      assert.equal(results[1].error.code, status.INVALID_ARGUMENT);
      const events = await sse.waitFor(2);
      assert.deepEqual(events.map((e) => e.id), [results[0].ack.id, results[2].ack.id]);
    } finally {
      sse.close();
    }
  });

  test('errors are PublishErrors like publish()', async () => {
    const anonymous = new Publisher({ target: bridge.target });
    try {
      await assert.rejects(anonymous.issueTicket({ userId: 'a', channels: ['a'] }),
        (err) => err instanceof PublishError && err.code === status.UNAUTHENTICATED);
      const appOnAdminPort = new Publisher({ target: bridge.adminTarget, token: PUBLISHER_KEY });
      try {
        await assert.rejects(appOnAdminPort.getStats(),
          (err) => err instanceof PublishError &&
            [status.PERMISSION_DENIED, status.UNAUTHENTICATED].includes(err.code));
      } finally {
        appOnAdminPort.close();
      }
      // The public port does not serve Admin at all.
      await assert.rejects(adminOnPublic(bridge).getStats(),
        (err) => err instanceof PublishError && err.code === status.UNIMPLEMENTED);
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(app.publish({ channel: 'b', data: 'x' }, { signal: aborted.signal }),
        (err) => err instanceof PublishError && err.code === status.CANCELLED);
    } finally {
      anonymous.close();
    }
    const down = new Publisher({ target: '127.0.0.1:1', timeoutMs: 2000 });
    try {
      await assert.rejects(down.getStats(),
        (err) => err instanceof PublishError && err.code === status.UNAVAILABLE);
    } finally {
      down.close();
    }
  });
});

// getStats({ fleet: true }) on a bridge of its own, so the idle numbers are
// known: with --broker=memory the fleet is this replica alone, and its one
// entry and the total are the top-level numbers.
describe('Publisher getStats with the fleet', () => {
  let bridge;
  let app;
  let admin;
  before(async () => {
    bridge = await startBridge({ flags: [
      `--publisher_keys_file=${tempFile('publishers', `app ${PUBLISHER_KEY}\n`)}`,
      `--admin_keys_file=${tempFile('admins', `ops ${ADMIN_KEY}\n`)}`] });
    app = new Publisher({ target: bridge.target, token: PUBLISHER_KEY });
    admin = new Publisher({ target: bridge.adminTarget, token: ADMIN_KEY });
  });
  after(async () => {
    app.close();
    admin.close();
    await bridge.stop();
  });

  const NUMBERS = ['connections', 'grpcSubscribers', 'channels', 'users', 'published'];
  function assertFleetOfOne(stats) {
    assert.equal(stats.replica, ''); // --broker=memory names no replica
    assert.equal(stats.fleet.error, '');
    assert.equal(stats.fleet.replicas.length, 1);
    const [here] = stats.fleet.replicas;
    const top = Object.fromEntries(NUMBERS.map((k) => [k, stats[k]]));
    assert.deepEqual({ ...here, reportedAt: undefined },
      { replica: stats.replica, ...top, reportedAt: undefined });
    // Taken for this answer: just now.
    assert.ok(here.reportedAt instanceof Date);
    assert.ok(Math.abs(Date.now() - here.reportedAt.getTime()) < 60000, String(here.reportedAt));
    assert.deepEqual(stats.fleet.total, { replica: '', ...top, reportedAt: null });
  }

  test('one replica, equal to the top-level numbers, idle and after a publish', async () => {
    const idle = await admin.getStats({ fleet: true });
    assert.equal(idle.published, 0);
    assert.equal(idle.connections, 0);
    assertFleetOfOne(idle);

    await app.publish({ channel: 'fleet', data: 'x' });
    const after = await admin.getStats({ maxChannels: 1, fleet: true });
    assert.equal(after.published, 1);
    assert.equal(after.fleet.replicas[0].published, 1);
    assertFleetOfOne(after);
  });

  test('no fleet unless asked; a non-boolean fleet is refused', async () => {
    const plain = await admin.getStats();
    assert.equal(plain.fleet, undefined);
    assert.ok(!('fleet' in plain));
    assert.equal((await admin.getStats({ maxChannels: 3, fleet: false })).fleet, undefined);
    await assert.rejects(admin.getStats({ fleet: 'false' }), TypeError);
  });
});
