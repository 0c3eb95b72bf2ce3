// Tests of @ssebridge/publisher against the real bridge binary: real gRPC
// to publish, real HTTP to read the SSE stream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Publisher, PublishError, status } from '../src/index.js';
import { startBridge, subscribe, seqOf, sleep, tempFile, freeze } from './helpers.js';

describe('Publisher.publish', () => {
  let bridge;
  let pub;
  before(async () => {
    bridge = await startBridge();
    pub = new Publisher({ target: bridge.target });
  });
  after(async () => {
    pub.close();
    await bridge.stop();
  });

  test('publishes an event that an SSE subscriber receives', async () => {
    const sse = await subscribe(bridge.httpPort, ['tasks']);
    try {
      const ack = await pub.publish({ channel: 'tasks', event: 'taskDone', data: { id: 1 } });
      assert.match(ack.id, /^[0-9a-z]+-\d+$/);
      assert.equal(ack.subscribers, 1);
      assert.equal(ack.replayed, false);
      assert.ok(ack.publishedAt instanceof Date && Math.abs(ack.publishedAt - Date.now()) < 60000);
      const [ev] = await sse.waitFor(1);
      assert.deepEqual(ev, { id: ack.id, event: 'taskDone', data: '{"id":1}' });
    } finally {
      sse.close();
    }
  });

  test('an idempotency key repeated is replayed, not published again', async () => {
    const first = await pub.publish({ channel: 'idem', data: 'x', idempotencyKey: 'k-1' });
    const again = await pub.publish({ channel: 'idem', data: 'x', idempotencyKey: 'k-1' });
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.equal(again.id, first.id);
  });

  test('a bad channel rejects with INVALID_ARGUMENT naming the field', async () => {
    await assert.rejects(pub.publish({ channel: 'no spaces allowed', data: 'x' }), (err) => {
      assert.ok(err instanceof PublishError);
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(err.codeName, 'INVALID_ARGUMENT');
      assert.match(err.details, /channel/);
      return true;
    });
  });

  test('a malformed request is refused before anything is sent', async () => {
    await assert.rejects(pub.publish(null), TypeError);
    await assert.rejects(pub.publish({ channel: 'a' }), /data is required/);
    await assert.rejects(pub.publish({ channel: '', data: 'x' }), /channel/);
    await assert.rejects(pub.publish({ channel: 'a', data: 'x', userIds: 'u1' }), /userIds/);
    assert.throws(() => new Publisher({}), /target/);
    assert.throws(() => new Publisher({ target: 'x:1', token: 'a\nb' }), /token/);
  });

  test('an unreachable bridge rejects with UNAVAILABLE or DEADLINE_EXCEEDED', async () => {
    const dead = new Publisher({ target: '127.0.0.1:1', timeoutMs: 2000 });
    try {
      await assert.rejects(dead.publish({ channel: 'a', data: 'x' }), (err) => {
        assert.ok([status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(err.code), err.message);
        return true;
      });
    } finally {
      dead.close();
    }
  });
});

describe('authentication', () => {
  const KEY = 'node-test-key-0123456789';
  const LIMITED = 'node-limited-key-0123456789';
  let bridge;
  before(async () => {
    const keys = tempFile('publishers', `tasks ${KEY}\nlimited ${LIMITED} billing*\n`);
    bridge = await startBridge({ flags: [`--publisher_keys_file=${keys}`] });
  });
  after(async () => { await bridge.stop(); });

  test('no token is UNAUTHENTICATED; the right one publishes', async () => {
    const anon = new Publisher({ target: bridge.target });
    const authed = new Publisher({ target: bridge.target, token: KEY });
    try {
      await assert.rejects(anon.publish({ channel: 'tasks', data: 'x' }),
        (err) => err.code === status.UNAUTHENTICATED);
      const ack = await authed.publish({ channel: 'tasks', data: 'x' });
      assert.match(ack.id, /-\d+$/);
    } finally {
      anon.close();
      authed.close();
    }
  });

  test('a stream with a bad token fails every send with UNAUTHENTICATED', async () => {
    const bad = new Publisher({ target: bridge.target, token: 'wrong-key-0123456789' });
    const stream = bad.stream();
    try {
      const failed = new Promise((resolve) => stream.once('failed', resolve));
      const results = await Promise.allSettled([
        stream.send({ channel: 'tasks', data: '1' }), stream.send({ channel: 'tasks', data: '2' })]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.equal(r.reason.code, status.UNAUTHENTICATED);
      }
      assert.equal((await failed).code, status.UNAUTHENTICATED);
      await assert.rejects(stream.send({ channel: 'tasks', data: '3' }),
        (err) => err.code === status.UNAUTHENTICATED);
    } finally {
      stream.close();
      bad.close();
    }
  });

  test('a channel the key may not publish to fails that send only', async () => {
    const limited = new Publisher({ target: bridge.target, token: LIMITED });
    const stream = limited.stream();
    try {
      const denied = stream.send({ channel: 'tasks', data: 'x' });
      const allowed = stream.send({ channel: 'billing.eu', data: 'y' });
      await assert.rejects(denied, (err) => {
        assert.equal(err.code, status.PERMISSION_DENIED);
        assert.match(err.details, /tasks/);
        return true;
      });
      assert.match((await allowed).id, /-\d+$/);
    } finally {
      await stream.end();
      limited.close();
    }
  });
});

describe('PublishStream', () => {
  test('matches acks to sends in order, never exceeds the window, and delivers everything', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const sse = await subscribe(bridge.httpPort, ['load']);
    const stream = pub.stream({ maxInFlight: 8 });
    try {
      const N = 500;
      const acks = [];
      let maxSeen = 0;
      for (let i = 0; i < N; i++) {
        await stream.ready();
        assert.ok(stream.inFlight + stream.queued < 8);
        acks.push(stream.send({ channel: 'load', event: 'n', data: { i } }));
        maxSeen = Math.max(maxSeen, stream.inFlight);
      }
      const resolved = await Promise.all(acks);
      assert.ok(maxSeen <= 8 && maxSeen >= 2, `in flight peaked at ${maxSeen}`);
      for (let i = 1; i < N; i++) {
        assert.ok(seqOf(resolved[i].id) > seqOf(resolved[i - 1].id), 'ids grow in send order');
      }
      const events = await sse.waitFor(N);
      assert.equal(events.length, N);
      events.forEach((ev, i) => {
        assert.equal(ev.id, resolved[i].id);
        assert.deepEqual(JSON.parse(ev.data), { i });
      });
    } finally {
      sse.close();
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('a bad request rejects alone and the stream carries on', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream();
    try {
      const results = await Promise.allSettled([
        stream.send({ channel: 'ok', data: '1' }),
        stream.send({ channel: 'ok', event: 'ssebridge.fake', data: '2' }),
        stream.send({ channel: 'ok', data: '' }),
        stream.send({ channel: 'ok', data: '4' }),
      ]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.equal(results[1].reason.code, status.INVALID_ARGUMENT);
      assert.match(results[1].reason.details, /event/);
      assert.equal(results[2].status, 'rejected');
      assert.match(results[2].reason.details, /data/);
      assert.equal(results[3].status, 'fulfilled');
      assert.ok(seqOf(results[3].value.id) > seqOf(results[0].value.id));
    } finally {
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('ready() waits while the window is full and resolves as acks come back', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream({ maxInFlight: 4 });
    try {
      await stream.send({ channel: 'bp', data: 'warm-up' });  // the stream is open
      await freeze(bridge.child);  // the bridge cannot answer now
      const acks = [];
      for (let i = 0; i < 5; i++) acks.push(stream.send({ channel: 'bp', data: String(i) }));
      assert.equal(stream.inFlight, 4);
      assert.equal(stream.queued, 1);
      let ready = false;
      const readyP = stream.ready().then(() => { ready = true; });
      await sleep(300);
      assert.equal(ready, false, 'ready() resolved while the window was full');
      bridge.child.kill('SIGCONT');
      await readyP;
      const all = await Promise.all(acks);
      assert.equal(all.length, 5);
      assert.equal(stream.inFlight + stream.queued, 0);
    } finally {
      bridge.child.kill('SIGCONT');
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('reconnects after the bridge is killed and resends what had no ack', async () => {
    let bridge = await startBridge();
    const grpcPort = bridge.grpcPort;
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream({ maxInFlight: 16, reconnect: { initialMs: 50, maxMs: 500 } });
    const disconnects = [];
    stream.on('disconnected', (err) => disconnects.push(err));
    try {
      for (let i = 0; i < 20; i++) await stream.send({ channel: 'r', data: `before-${i}` });
      await freeze(bridge.child);
      const pending = [];
      for (let i = 0; i < 30; i++) pending.push(stream.send({ channel: 'r', data: `during-${i}` }));
      assert.equal(stream.inFlight, 16);
      bridge.child.kill('SIGKILL');
      await bridge.exited;
      await sleep(300);  // some reconnect attempts fail while nothing listens
      bridge = await startBridge({ grpcPort });
      const sse = await subscribe(bridge.httpPort, ['r']);
      try {
        const acks = await Promise.all(pending);
        assert.ok(disconnects.length >= 1);
        for (let i = 1; i < acks.length; i++) {
          assert.ok(seqOf(acks[i].id) > seqOf(acks[i - 1].id), 'resent in order');
          assert.equal(acks[i].replayed, false);  // the new bridge had never seen them
        }
        const events = await sse.waitFor(30);
        assert.deepEqual(events.map((e) => e.data), pending.map((_, i) => `during-${i}`));
      } finally {
        sse.close();
      }
    } finally {
      await stream.end();
      pub.close();
      bridge.child.kill('SIGCONT');
      await bridge.stop();
    }
  });

  test('an in-flight request the bridge had accepted is replayed, not published twice', async () => {
    // The stream breaks after the bridge published but before the client saw
    // the ack: a client-side cancel of the underlying call simulates that.
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream({ reconnect: { initialMs: 10, maxMs: 50 } });
    const sse = await subscribe(bridge.httpPort, ['once']);
    try {
      await stream.send({ channel: 'once', data: 'first' });
      // Drop the next answer on the floor, then break the call once the
      // bridge has published: the client must resend.
      const call = stream._call;
      call.removeAllListeners('data');
      const p = stream.send({ channel: 'once', data: 'second' });
      await sse.waitFor(2);
      call.cancel();
      const ack = await p;
      assert.equal(ack.replayed, true);
      assert.equal(ack.id, sse.events[1].id);
      await stream.send({ channel: 'once', data: 'third' });
      const events = await sse.waitFor(3);
      assert.deepEqual(events.map((e) => e.data), ['first', 'second', 'third']);
    } finally {
      sse.close();
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test("with idempotency 'none' a request lost in flight rejects instead of being resent", async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream({ idempotency: 'none', reconnect: { initialMs: 10, maxMs: 50 } });
    try {
      await stream.send({ channel: 'n', data: 'first' });
      const call = stream._call;
      call.removeAllListeners('data');
      const p = stream.send({ channel: 'n', data: 'second' });
      call.cancel();
      await assert.rejects(p, (err) => {
        assert.equal(err.code, status.UNAVAILABLE);
        assert.match(err.message, /may or may not have been published/);
        return true;
      });
      assert.match((await stream.send({ channel: 'n', data: 'third' })).id, /-\d+$/);
    } finally {
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('close() rejects what is outstanding with CANCELLED', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream();
    try {
      await stream.send({ channel: 'c', data: 'x' });
      await freeze(bridge.child);
      const p = stream.send({ channel: 'c', data: 'y' });
      stream.close();
      await assert.rejects(p, (err) => err.code === status.CANCELLED);
      await assert.rejects(stream.send({ channel: 'c', data: 'z' }), (err) => err.code === status.CANCELLED);
    } finally {
      bridge.child.kill('SIGCONT');
      pub.close();
      await bridge.stop();
    }
  });

  test('giving up after maxAttempts fails the stream', async () => {
    const pub = new Publisher({ target: '127.0.0.1:1' });
    const stream = pub.stream({ reconnect: { initialMs: 10, maxMs: 20, maxAttempts: 2 } });
    try {
      const failed = new Promise((resolve) => stream.once('failed', resolve));
      await assert.rejects(stream.send({ channel: 'a', data: 'x' }), (err) => {
        assert.equal(err.code, status.UNAVAILABLE);
        assert.match(err.message, /gave up after 2 reconnect attempts/);
        return true;
      });
      assert.match((await failed).message, /gave up/);
    } finally {
      stream.close();
      pub.close();
    }
  });

  test('closing the Publisher cancels its streams', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.stream({ reconnect: { initialMs: 10, maxMs: 20 } });
    try {
      await stream.send({ channel: 'c', data: 'x' });
      await freeze(bridge.child);
      const outstanding = stream.send({ channel: 'c', data: 'y' });
      pub.close();
      await assert.rejects(outstanding, (err) => err.code === status.CANCELLED);
      await assert.rejects(stream.send({ channel: 'c', data: 'z' }), (err) => err.code === status.CANCELLED);
      assert.throws(() => pub.stream(), /closed/);
    } finally {
      bridge.child.kill('SIGCONT');
      stream.close();
      await bridge.stop();
    }
  });

  test('bad stream options are refused', () => {
    const pub = new Publisher({ target: '127.0.0.1:1' });
    try {
      assert.throws(() => pub.stream({ maxInFlight: 0 }), /maxInFlight/);
      assert.throws(() => pub.stream({ idempotency: 'sometimes' }), /idempotency/);
    } finally {
      pub.close();
    }
  });
});

describe('PublishBatchStream', () => {
  test('answers several batches in order, one result per request, within the window', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const sse = await subscribe(bridge.httpPort, ['bl']);
    const stream = pub.batchStream({ maxInFlight: 2 });
    try {
      const B = 6;
      const sends = [];
      let maxSeen = 0;
      for (let b = 0; b < B; b++) {
        await stream.ready();
        assert.ok(stream.inFlight + stream.queued < 2);
        const batch = [];
        for (let i = 0; i < 5; i++) batch.push({ channel: 'bl', event: 'n', data: { b, i } });
        sends.push(stream.send(batch));
        maxSeen = Math.max(maxSeen, stream.inFlight);
      }
      assert.ok(maxSeen <= 2, `in flight peaked at ${maxSeen}`);
      const answers = await Promise.all(sends);
      const acks = answers.flat().map((r) => {
        assert.equal(r.error, null);
        return r.ack;
      });
      assert.equal(acks.length, B * 5);
      for (let i = 1; i < acks.length; i++) {
        assert.ok(seqOf(acks[i].id) > seqOf(acks[i - 1].id), 'ids grow in send order');
      }
      const events = await sse.waitFor(B * 5);
      events.forEach((ev, k) => {
        assert.equal(ev.id, acks[k].id);
        assert.deepEqual(JSON.parse(ev.data), { b: Math.floor(k / 5), i: k % 5 });
      });
      await stream.end();
      assert.equal(stream.inFlight + stream.queued, 0);
      await assert.rejects(stream.send([{ channel: 'bl', data: 'late' }]),
        (err) => err instanceof PublishError && err.code === status.CANCELLED);
    } finally {
      sse.close();
      stream.close();
      pub.close();
      await bridge.stop();
    }
  });

  test('a bad request gets its PublishError in its slot; the rest and the stream carry on', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const sse = await subscribe(bridge.httpPort, ['ok']);
    const stream = pub.batchStream();
    try {
      const [mixed, next] = await Promise.all([
        stream.send([
          { channel: 'ok', data: '1' },
          { channel: 'no spaces allowed', data: '2' },
          { channel: 'ok', data: '3' },
        ]),
        stream.send([{ channel: 'ok', data: '4' }]),
      ]);
      assert.equal(mixed.length, 3);
      assert.equal(mixed[0].error, null);
      assert.equal(mixed[1].ack, null);
      assert.ok(mixed[1].error instanceof PublishError);
      assert.equal(mixed[1].error.code, status.INVALID_ARGUMENT);
      assert.equal(mixed[1].error.codeName, 'INVALID_ARGUMENT');
      assert.match(mixed[1].error.details, /channel/);
      assert.equal(mixed[2].error, null);
      assert.equal(next[0].error, null);
      assert.ok(seqOf(next[0].ack.id) > seqOf(mixed[2].ack.id));
      // Over the bridge's 1,000 per batch: every request refused, none published.
      const big = Array.from({ length: 1001 }, (_, i) => ({ channel: 'ok', data: `big-${i}` }));
      const refused = await stream.send(big);
      assert.equal(refused.length, 1001);
      assert.ok(refused.every((r) => r.ack === null && r.error.code === status.INVALID_ARGUMENT));
      assert.deepEqual(await stream.send([]), []);
      const after = await stream.send([{ channel: 'ok', data: '5' }]);
      assert.equal(after[0].error, null);
      const events = await sse.waitFor(4);
      assert.deepEqual(events.map((e) => e.data), ['1', '3', '4', '5']);
      await assert.rejects(stream.send({ channel: 'ok', data: 'x' }), TypeError);
      await assert.rejects(stream.send([{ channel: 'ok' }]), /data is required/);
    } finally {
      sse.close();
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('a batch the bridge had accepted is replayed after a broken call, not published twice', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.batchStream({ reconnect: { initialMs: 10, maxMs: 50 } });
    const sse = await subscribe(bridge.httpPort, ['once']);
    try {
      await stream.send([{ channel: 'once', data: 'first' }]);
      const call = stream._call;
      call.removeAllListeners('data');
      const p = stream.send([{ channel: 'once', data: 'second' }, { channel: 'once', data: 'third' }]);
      await sse.waitFor(3);
      call.cancel();
      const results = await p;
      assert.ok(results.every((r) => r.ack.replayed));
      assert.deepEqual(results.map((r) => r.ack.id), sse.events.slice(1, 3).map((e) => e.id));
      await stream.send([{ channel: 'once', data: 'fourth' }]);
      const events = await sse.waitFor(4);
      assert.deepEqual(events.map((e) => e.data), ['first', 'second', 'third', 'fourth']);
    } finally {
      sse.close();
      await stream.end();
      pub.close();
      await bridge.stop();
    }
  });

  test('close() rejects outstanding batches with CANCELLED; bad options are refused', async () => {
    const bridge = await startBridge();
    const pub = new Publisher({ target: bridge.target });
    const stream = pub.batchStream();
    try {
      await stream.send([{ channel: 'c', data: 'x' }]);
      await freeze(bridge.child);
      const p = stream.send([{ channel: 'c', data: 'y' }]);
      stream.close();
      await assert.rejects(p, (err) => err instanceof PublishError && err.code === status.CANCELLED);
      assert.throws(() => pub.batchStream({ maxInFlight: 0 }), /PublishBatchStream: maxInFlight/);
    } finally {
      bridge.child.kill('SIGCONT');
      pub.close();
      await bridge.stop();
    }
  });
});
