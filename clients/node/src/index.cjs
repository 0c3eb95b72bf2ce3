// @ssebridge/publisher: publish events to ssebridge over gRPC.
//
// What it promises:
// - Publisher.publish(request) resolves with the bridge's ack ({ id,
//   subscribers, replayed, publishedAt }) once the broker accepted the event,
//   or rejects with a PublishError carrying the gRPC status code and message.
//   Nothing is retried behind the caller's back.
// - Publisher.stream() returns a PublishStream: one long-lived
//   PublishStream RPC. send() resolves with the ack of *that* request (the
//   bridge answers in order, so acks are matched to sends by position), or
//   rejects with a PublishError for that request alone; the stream carries on.
//   At most `maxInFlight` requests are written and unacknowledged at a time;
//   more are held in order by the client, and `await stream.ready()` is the
//   back-pressure signal (it resolves once fewer than `maxInFlight` requests
//   are outstanding). When the stream breaks (bridge restart, network) it is
//   reopened with exponential backoff and jitter, and every request that had
//   no ack yet is sent again, in order, on the new stream. Requests carry an
//   idempotency key (generated unless the caller set one; `idempotency:
//   'none'` turns that off), so a request the old bridge had already accepted
//   is answered with `replayed: true` and the original id instead of being
//   published twice - as long as the bridge still knows the key (the memory
//   broker forgets keys when it restarts; so does its history, and browsers
//   get `ssebridge.reset`). Without a key, a request lost in flight rejects
//   with UNAVAILABLE instead of being resent, since it may have been
//   published.
//   Authentication, permission and argument failures of the stream itself end
//   it for good: every outstanding send rejects with that error.
// - Publisher.batchStream() returns a PublishBatchStream: the same, over one
//   BatchPublisher.PublishBatchStream RPC, where each send() is a batch of
//   up to 1,000 requests. It resolves with one { ack, error } per request of
//   that batch, in order (exactly as publishBatch() does: a refused request
//   has its PublishError, the others are still published), and rejects only
//   when the stream failed for the batch as a whole. `maxInFlight` counts
//   batches; reconnects resend whole batches, and only batches whose every
//   request carries an idempotency key.
'use strict';
// CommonJS, so that both require() and import (src/index.js re-exports it)
// load this one copy: no dual-package hazard (one PublishError class).
const { EventEmitter } = require('node:events');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const status = grpc.status;

// The proto the package carries (copied in by `npm pack`, see
// scripts/copy-proto.cjs), or in a checkout the repository's proto/.
const PACKED_PROTO_DIR = path.join(__dirname, '..', 'proto');
const DEFAULT_PROTO_DIR = fs.existsSync(path.join(PACKED_PROTO_DIR, 'ssebridge', 'v1', 'bridge.proto'))
  ? PACKED_PROTO_DIR
  : path.join(__dirname, '..', '..', '..', 'proto');

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([name, code]) => [code, name]),
);

// A failed publish: `code` is the gRPC status code (grpc.status.*),
// `codeName` its name ("INVALID_ARGUMENT"), `details` the bridge's message.
class PublishError extends Error {
  constructor(code, details, cause) {
    const codeName = STATUS_NAMES[code] ?? `CODE_${code}`;
    super(`${codeName}: ${details}`, cause ? { cause } : undefined);
    this.name = 'PublishError';
    this.code = code;
    this.codeName = codeName;
    this.details = details;
  }
}

const packageCache = new Map();
// The ssebridge.v1 package (its service constructors) from protoDir.
function loadServices(protoDir) {
  let pkg = packageCache.get(protoDir);
  if (!pkg) {
    const def = protoLoader.loadSync('ssebridge/v1/bridge.proto', {
      includeDirs: [protoDir],
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    pkg = grpc.loadPackageDefinition(def).ssebridge.v1;
    packageCache.set(protoDir, pkg);
  }
  return pkg;
}

function toDate(ts) {
  return ts ? new Date(Number(ts.seconds) * 1000 + Math.floor(Number(ts.nanos) / 1e6)) : null;
}

// Turns a caller's request into the proto's shape. `data` may be a string
// (sent as is) or any other JSON value (sent as JSON text).
function toPublishRequest(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new TypeError('publish request must be an object like { channel, data }');
  }
  const { channel, event = '', data, userIds = [], retain = false, idempotencyKey = '' } = request;
  if (typeof channel !== 'string' || channel === '') {
    throw new TypeError('publish request: channel must be a non-empty string');
  }
  if (typeof event !== 'string') throw new TypeError('publish request: event must be a string');
  if (data === undefined) throw new TypeError('publish request: data is required');
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  if (text === undefined) throw new TypeError('publish request: data is not JSON-serialisable');
  if (!Array.isArray(userIds) || userIds.some((u) => typeof u !== 'string')) {
    throw new TypeError('publish request: userIds must be an array of strings');
  }
  if (typeof idempotencyKey !== 'string') {
    throw new TypeError('publish request: idempotencyKey must be a string');
  }
  return { channel, event, data: text, userIds, retain: Boolean(retain), idempotencyKey };
}

function toAck(response) {
  return {
    id: response.id,
    subscribers: response.subscribers,
    replayed: Boolean(response.replayed),
    publishedAt: toDate(response.publishedAt),
  };
}

function toReplicaStats(r) {
  return {
    replica: r.replica,
    connections: Number(r.connections),
    grpcSubscribers: Number(r.grpcSubscribers),
    channels: Number(r.channels),
    users: Number(r.users),
    published: Number(r.published),
    reportedAt: toDate(r.reportedAt),
  };
}

function toStats(s) {
  const stats = {
    connections: Number(s.connections),
    grpcSubscribers: Number(s.grpcSubscribers),
    channels: Number(s.channels),
    users: Number(s.users),
    published: Number(s.published),
    channelStats: s.channelStats.map((c) => ({ channel: c.channel, subscribers: c.subscribers })),
    replica: s.replica,
  };
  // The loader gives an unset message field as null: the fleet was not
  // asked for. Left out then, so `fleet` is undefined as its type says.
  if (s.fleet) {
    stats.fleet = {
      replicas: s.fleet.replicas.map(toReplicaStats),
      total: toReplicaStats(s.fleet.total),
      error: s.fleet.error,
    };
  }
  return stats;
}

// One { ack, error } per answer of a PublishBatchResponse, in order.
function toBatchResults(response) {
  return response.responses.map((r) => (r.error && r.error.code !== 0
    ? { ack: null, error: new PublishError(r.error.code, r.error.message) }
    : { ack: toAck(r), error: null }));
}

function grpcErrorToPublishError(err) {
  if (err instanceof PublishError) return err;
  if (err && typeof err.code === 'number') return new PublishError(err.code, err.details ?? err.message, err);
  return new PublishError(grpc.status.UNKNOWN, String(err?.message ?? err), err);
}

class Publisher {
  // options:
  //   target        "host:port" of the bridge's gRPC port (required)
  //   token         publisher key or JWT, sent as `authorization: Bearer ...`
  //   tls           false (plaintext, default), true (system roots), or
  //                 { rootCerts, privateKey, certChain } (Buffers; mTLS with the last two)
  //   timeoutMs     deadline of each unary publish (default 10000)
  //   protoDir      where ssebridge/v1/bridge.proto lives (default: the repo's proto/)
  //   channelOptions  passed to grpc-js (e.g. 'grpc.ssl_target_name_override')
  constructor(options = {}) {
    const { target, token, tls = false, timeoutMs = 10000, protoDir = DEFAULT_PROTO_DIR,
      channelOptions = {} } = options;
    if (typeof target !== 'string' || target === '') {
      throw new TypeError('Publisher: target ("host:port") is required');
    }
    if (token !== undefined && (typeof token !== 'string' || token === '' || /[\r\n]/.test(token))) {
      throw new TypeError('Publisher: token must be a non-empty single-line string');
    }
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new TypeError('Publisher: timeoutMs must be a positive number');
    }
    let credentials;
    if (tls === false) {
      credentials = grpc.credentials.createInsecure();
    } else if (tls === true) {
      credentials = grpc.credentials.createSsl();
    } else if (typeof tls === 'object' && tls !== null) {
      credentials = grpc.credentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null,
        tls.certChain ?? null);
    } else {
      throw new TypeError('Publisher: tls must be false, true or { rootCerts, privateKey, certChain }');
    }
    this._services = loadServices(protoDir);
    this._client = new this._services.Publisher(target, credentials, channelOptions);
    // The other services share the Publisher's channel (one connection).
    this._others = new Map();
    this._token = token;
    this._timeoutMs = timeoutMs;
    this._closed = false;
    this._streams = new Set();
  }

  _metadata() {
    const md = new grpc.Metadata();
    if (this._token) md.set('authorization', `Bearer ${this._token}`);
    return md;
  }

  _service(name) {
    let client = this._others.get(name);
    if (!client) {
      client = new this._services[name](null, null, { channelOverride: this._client.getChannel() });
      this._others.set(name, client);
    }
    return client;
  }

  // One unary call with the Publisher's credential and deadline
  // (options.timeoutMs overrides it); options.signal (an AbortSignal)
  // cancels it. Rejects with PublishError, the same way for every method:
  // CANCELLED when aborted or closed, DEADLINE_EXCEEDED when the deadline
  // passed (the outcome is then unknown: a publish may have been stored),
  // UNAVAILABLE when the bridge could not be reached (nothing was stored).
  _unary(client, method, request, options = {}) {
    if (this._closed) return Promise.reject(new PublishError(grpc.status.CANCELLED, 'publisher closed'));
    const { signal } = options;
    if (signal?.aborted) {
      return Promise.reject(new PublishError(grpc.status.CANCELLED, 'aborted', signal.reason));
    }
    const deadline = new Date(Date.now() + (options.timeoutMs ?? this._timeoutMs));
    return new Promise((resolve, reject) => {
      const call = client[method](request, this._metadata(), { deadline }, (err, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(grpcErrorToPublishError(err));
        else resolve(response);
      });
      function onAbort() { call.cancel(); }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // Publishes one event. Resolves with { id, subscribers, replayed,
  // publishedAt } or rejects with PublishError. options: { timeoutMs, signal }.
  // Never retried here: resend only with an idempotencyKey.
  publish(request, options = {}) {
    let req;
    try {
      req = toPublishRequest(request);
    } catch (err) {
      return Promise.reject(err);
    }
    return this._unary(this._client, 'Publish', req, options).then(toAck);
  }

  // Publishes up to 1,000 events in one call, in order. Resolves with one
  // { ack, error } per request (exactly one of them set: a refused request
  // has error, a PublishError, and the others are still published); rejects
  // with PublishError when the whole call failed.
  publishBatch(requests, options = {}) {
    let reqs;
    try {
      if (!Array.isArray(requests)) throw new TypeError('publishBatch: requests must be an array');
      reqs = requests.map(toPublishRequest);
    } catch (err) {
      return Promise.reject(err);
    }
    return this._unary(this._service('BatchPublisher'), 'PublishBatch', { requests: reqs }, options)
      .then((response) => toBatchResults(response));
  }

  // Mints a one-time ticket for a page: GET /v1/events?channel=...&ticket=...
  // request: { userId, channels: ['orders.*', ...], ttlSeconds (1-60, default 30) }.
  // Resolves with { ticket, expiresAt }.
  issueTicket(request, options = {}) {
    const { userId = '', channels = [], ttlSeconds = 0 } = request ?? {};
    if (typeof userId !== 'string') return Promise.reject(new TypeError('issueTicket: userId must be a string'));
    if (!Array.isArray(channels) || channels.some((c) => typeof c !== 'string')) {
      return Promise.reject(new TypeError('issueTicket: channels must be an array of strings'));
    }
    return this._unary(this._service('Tickets'), 'IssueTicket',
      { userId, channels, ttlSeconds }, options)
      .then((r) => ({ ticket: r.ticket, expiresAt: toDate(r.expiresAt) }));
  }

  // Admin: ends every SSE stream of the user. Resolves with how many.
  disconnectUser(userId, options = {}) {
    if (typeof userId !== 'string' || userId === '') {
      return Promise.reject(new TypeError('disconnectUser: userId must be a non-empty string'));
    }
    return this._unary(this._service('Admin'), 'DisconnectUser', { userId }, options)
      .then((r) => r.disconnected);
  }

  // Admin: the bridge's counts. options.maxChannels (default 100) bounds
  // channelStats, busiest first. options.fleet also asks for every
  // replica's numbers: the result's `fleet` (undefined when not asked).
  getStats(options = {}) {
    const fleet = options.fleet ?? false;
    // A boolean only: a truthy string such as 'false' must not ask for it.
    if (typeof fleet !== 'boolean') {
      return Promise.reject(new TypeError('getStats: fleet must be a boolean'));
    }
    return this._unary(this._service('Admin'), 'GetStats',
      { maxChannels: options.maxChannels ?? 0, fleet }, options)
      .then(toStats);
  }

  // A long-lived, reconnecting PublishStream; see PublishStream.
  stream(options = {}) {
    if (this._closed) throw new Error('Publisher: closed');
    const stream = new PublishStream(this, options);
    this._streams.add(stream);
    return stream;
  }

  // A long-lived, reconnecting PublishBatchStream (BatchPublisher's stream);
  // the same options and behaviour as stream(), a batch per send().
  batchStream(options = {}) {
    if (this._closed) throw new Error('Publisher: closed');
    const stream = new PublishBatchStream(this, options);
    this._streams.add(stream);
    return stream;
  }

  // Cancels this Publisher's open streams (their outstanding sends reject
  // with CANCELLED) and closes the channel.
  close() {
    this._closed = true;
    for (const stream of this._streams) stream.close();
    this._streams.clear();
    for (const client of this._others.values()) client.close();
    this._client.close();
  }
}

const FATAL_CODES = new Set([
  grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT,
  grpc.status.UNIMPLEMENTED, grpc.status.FAILED_PRECONDITION, grpc.status.OUT_OF_RANGE,
  grpc.status.NOT_FOUND, grpc.status.ALREADY_EXISTS,
]);

// Events: 'connected' (a stream was opened and acknowledged a request),
// 'disconnected' (PublishError: why the stream ended; a reconnect follows
// when there is work), 'failed' (PublishError: fatal, the stream is done).
class PublishStream extends EventEmitter {
  constructor(publisher, options = {}) {
    super();
    const { maxInFlight = 64, idempotency = 'auto', reconnect = {} } = options;
    const name = new.target.name;
    if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) {
      throw new TypeError(`${name}: maxInFlight must be an integer >= 1`);
    }
    if (idempotency !== 'auto' && idempotency !== 'none') {
      throw new TypeError(`${name}: idempotency must be 'auto' or 'none'`);
    }
    this._publisher = publisher;
    this._maxInFlight = maxInFlight;
    this._autoKeys = idempotency === 'auto';
    this._keyPrefix = randomUUID();
    this._keySeq = 0;
    this._backoff = {
      initialMs: reconnect.initialMs ?? 100,
      maxMs: reconnect.maxMs ?? 5000,
      maxAttempts: reconnect.maxAttempts ?? Infinity,
    };
    this._attempt = 0;
    this._queue = [];     // accepted by send(), not yet written
    this._inflight = [];  // written on the current call, awaiting its ack, in order
    this._call = null;
    this._retryTimer = null;
    this._readyWaiters = [];
    this._idleWaiters = [];
    this._failed = null;  // PublishError once fatal
    this._closed = false;
    this._open();
  }

  // Requests written and not yet acknowledged.
  get inFlight() { return this._inflight.length; }
  // Requests held by the client because the window is full or the stream is reconnecting.
  get queued() { return this._queue.length; }
  get maxInFlight() { return this._maxInFlight; }

  // Sends one event; resolves with its ack or rejects with PublishError.
  send(request) {
    let req;
    try {
      req = this._toRequest(request);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this._failed) return Promise.reject(this._failed);
    if (this._closed) return Promise.reject(new PublishError(grpc.status.CANCELLED, 'stream closed'));
    return new Promise((resolve, reject) => {
      this._queue.push({ req, resolve, reject });
      if (!this._call && !this._retryTimer) this._open();
      this._pump();
    });
  }

  // Resolves when fewer than maxInFlight requests are outstanding (written
  // or queued): the moment to send the next one without growing a backlog.
  ready() {
    if (this._failed) return Promise.reject(this._failed);
    if (this._outstanding() < this._maxInFlight || this._closed) return Promise.resolve();
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  // Resolves when every request sent so far has been answered (or failed).
  flush() {
    if (this._outstanding() === 0) return Promise.resolve();
    return new Promise((resolve) => this._idleWaiters.push(resolve));
  }

  // Flushes, then half-closes the stream. Resolves once it has ended.
  async end() {
    await this.flush();
    this._closed = true;
    this._publisher._streams.delete(this);
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const call = this._call;
    if (!call) return;
    await new Promise((resolve) => {
      call.once('status', () => resolve());
      call.end();
    });
  }

  // Cancels at once: everything outstanding rejects with CANCELLED.
  close() {
    this._publisher._streams.delete(this);
    if (this._closed && !this._call) return;
    this._closed = true;
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const call = this._call;
    this._call = null;
    if (call) call.cancel();
    this._rejectAll(new PublishError(grpc.status.CANCELLED, 'stream closed'));
  }

  _outstanding() { return this._queue.length + this._inflight.length; }

  // What differs between PublishStream and PublishBatchStream: the request
  // (checked, with its idempotency key), the RPC, whether a request may be
  // resent after the stream broke, and how its answer settles the send.
  _withKey(req) {
    if (this._autoKeys && req.idempotencyKey === '') {
      req.idempotencyKey = `${this._keyPrefix}-${++this._keySeq}`;
    }
    return req;
  }

  _toRequest(request) { return this._withKey(toPublishRequest(request)); }

  _startCall(metadata) { return this._publisher._client.PublishStream(metadata); }

  _resendable(req) { return req.idempotencyKey !== ''; }

  _settle(entry, response) {
    if (response.error && response.error.code !== 0) {
      entry.reject(new PublishError(response.error.code, response.error.message));
    } else {
      entry.resolve(toAck(response));
    }
  }

  _open() {
    if (this._closed || this._failed) return;
    if (this._publisher._closed) {
      this._fail(new PublishError(grpc.status.CANCELLED, 'publisher closed'));
      return;
    }
    let call;
    try {
      call = this._startCall(this._publisher._metadata());
    } catch (err) {
      this._fail(grpcErrorToPublishError(err));
      return;
    }
    this._call = call;
    this._ackedOnThisCall = false;
    call.on('data', (response) => this._onResponse(call, response));
    call.on('error', () => {});  // the status event carries it
    call.on('status', (st) => this._onEnd(call, st));
  }

  _pump() {
    const call = this._call;
    if (!call) return;
    while (this._queue.length > 0 && this._inflight.length < this._maxInFlight) {
      const entry = this._queue.shift();
      this._inflight.push(entry);
      call.write(entry.req);
    }
  }

  _onResponse(call, response) {
    if (call !== this._call) return;
    const entry = this._inflight.shift();
    if (!entry) return;  // the bridge answers one per request; nothing to match
    if (!this._ackedOnThisCall) {
      this._ackedOnThisCall = true;
      this._attempt = 0;
      this.emit('connected');
    }
    this._settle(entry, response);
    this._pump();
    this._notify();
  }

  _onEnd(call, st) {
    if (call !== this._call) return;
    this._call = null;
    const err = new PublishError(st.code, st.details || 'stream ended');
    if (this._closed) {
      this._rejectAll(err);
      return;
    }
    if (FATAL_CODES.has(st.code) || this._publisher._closed) {
      this._fail(err);
      return;
    }
    // Requests without an ack go back to the front of the queue, in order,
    // when resending is safe; the others are reported as lost.
    const resend = [];
    for (const entry of this._inflight) {
      if (this._resendable(entry.req)) resend.push(entry);
      else {
        entry.reject(new PublishError(grpc.status.UNAVAILABLE,
          `stream lost before the ack (${err.message}); the event may or may not have been published`));
      }
    }
    this._inflight = [];
    this._queue = resend.concat(this._queue);
    this._notify();
    this.emit('disconnected', err);
    if (this._queue.length === 0) return;  // reopen lazily, on the next send
    this._scheduleReconnect(err);
  }

  _scheduleReconnect(lastErr) {
    this._attempt += 1;
    if (this._attempt > this._backoff.maxAttempts) {
      this._fail(new PublishError(lastErr.code,
        `gave up after ${this._backoff.maxAttempts} reconnect attempts: ${lastErr.details}`));
      return;
    }
    const cap = Math.min(this._backoff.maxMs, this._backoff.initialMs * 2 ** (this._attempt - 1));
    const delay = cap / 2 + Math.random() * (cap / 2);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._open();
      this._pump();
    }, delay);
  }

  // Fatal: every outstanding and future send rejects with `err`.
  _fail(err) {
    this._failed = err;
    this._publisher._streams.delete(this);
    this._rejectAll(err);
    this.emit('failed', err);
  }

  _rejectAll(err) {
    const all = this._inflight.concat(this._queue);
    this._inflight = [];
    this._queue = [];
    for (const entry of all) entry.reject(err);
    for (const w of this._readyWaiters.splice(0)) {
      if (this._failed) w.reject(err);
      else w.resolve();
    }
    this._notify();
  }

  _notify() {
    if (this._outstanding() < this._maxInFlight) {
      for (const w of this._readyWaiters.splice(0)) w.resolve();
    }
    if (this._outstanding() === 0) {
      for (const resolve of this._idleWaiters.splice(0)) resolve();
    }
  }
}

// BatchPublisher.PublishBatchStream: a PublishStream whose requests are
// batches. send(requests) takes up to 1,000 requests (the bridge answers a
// larger batch with an error per request and publishes none of it) and
// resolves with one { ack, error } per request, in order, like
// publishBatch(); it rejects with PublishError only when the stream failed
// for the whole batch (closed, fatal status, lost without idempotency keys).
// `maxInFlight`, ready(), flush(), end(), close(), reconnects and the
// events are PublishStream's, counting batches.
class PublishBatchStream extends PublishStream {
  _toRequest(requests) {
    if (!Array.isArray(requests)) {
      throw new TypeError('PublishBatchStream.send: requests must be an array');
    }
    return { requests: requests.map((r) => this._withKey(toPublishRequest(r))) };
  }

  _startCall(metadata) {
    return this._publisher._service('BatchPublisher').PublishBatchStream(metadata);
  }

  // A batch is resent only if none of its requests can be published twice.
  _resendable(req) { return req.requests.every((r) => r.idempotencyKey !== ''); }

  _settle(entry, response) {
    const results = toBatchResults(response);
    if (results.length !== entry.req.requests.length) {
      entry.reject(new PublishError(grpc.status.INTERNAL,
        `${results.length} answers to a batch of ${entry.req.requests.length}`));
      return;
    }
    entry.resolve(results);
  }
}

module.exports = {
  status, DEFAULT_PROTO_DIR, PublishError, Publisher, PublishStream, PublishBatchStream,
  toPublishRequest,
};
