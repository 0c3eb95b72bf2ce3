// Test helpers: the real ssebridge binary on loopback ports, and an SSE
// reader over a real HTTP connection.
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export function bridgeBinary() {
  const bin = process.env.SSEBRIDGE_BINARY || path.join(REPO, 'build/release/ssebridge');
  if (!fs.existsSync(bin)) {
    throw new Error(`ssebridge binary not found at ${bin}; build it or set SSEBRIDGE_BINARY`);
  }
  return bin;
}

export function tempFile(name, contents) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssebridge-node-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents, { mode: 0o600 });
  return file;
}

// Starts the bridge; resolves once its "listening" line names both ports.
// `grpcPort`/`httpPort` default to 0 (ephemeral).
export async function startBridge({ flags = [], grpcPort = 0, httpPort = 0 } = {}) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SSEBRIDGE_')));
  const args = ['--http_address=127.0.0.1', `--http_port=${httpPort}`,
    '--grpc_address=127.0.0.1', `--grpc_port=${grpcPort}`,
    '--admin_address=127.0.0.1', '--admin_port=0', ...flags];
  const child = spawn(bridgeBinary(), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  let partial = '';
  const bridge = {
    child, log,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return bridge.exited;
      child.kill(signal);
      return bridge.exited;
    },
  };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge did not start:\n${log.join('\n')}`)), 20000);
    child.stderr.on('data', (chunk) => {
      partial += chunk.toString('utf8');
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        log.push(line);
        let obj;
        try { obj = JSON.parse(line); } catch { continue; }
        if (obj.msg === 'listening' && obj.http_port > 0 && obj.grpc_port > 0) {
          bridge.httpPort = obj.http_port;
          bridge.grpcPort = obj.grpc_port;
          bridge.target = `127.0.0.1:${obj.grpc_port}`;
          // The internal port: /metrics and the gRPC Admin service.
          bridge.adminPort = obj.admin_port;
          bridge.adminTarget = `127.0.0.1:${obj.admin_port}`;
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bridgeBinary()}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited (${code ?? signal}) before listening:\n${log.join('\n')}`));
    });
  });
  return bridge;
}

// An SSE subscription: events parsed from the wire, awaitable by count.
export async function subscribe(httpPort, channels) {
  const qs = channels.map((c) => `channel=${encodeURIComponent(c)}`).join('&');
  const events = [];
  const waiters = [];
  let buffer = '';
  let block = { data: [] };
  const req = http.get({ host: '127.0.0.1', port: httpPort, path: `/v1/events?${qs}` });
  const res = await new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`GET /v1/events answered ${res.statusCode}`);
  }
  let opened;
  const openedP = new Promise((resolve) => { opened = resolve; });
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    opened();  // the bridge writes a comment and retry: at once
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (block.data.length > 0) {
          events.push({ id: block.id, event: block.event ?? 'message', data: block.data.join('\n') });
          for (const w of waiters.splice(0)) w();
        }
        block = { data: [] };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') block.data.push(value);
        else if (field === 'id') block.id = value;
        else if (field === 'event') block.event = value;
      }
    }
  });
  res.on('error', () => {});
  await openedP;
  return {
    events,
    async waitFor(count, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`got ${events.length} SSE events, wanted ${count}`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => { clearTimeout(t); resolve(); });
        });
      }
      return events;
    },
    close() { req.destroy(); },
  };
}

export function seqOf(id) {
  const m = /^[0-9a-z]+-(\d+)$/.exec(id);
  if (!m) throw new Error(`not an event id: ${JSON.stringify(id)}`);
  return Number(m[1]);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// SIGSTOP, then wait until every thread of the bridge has stopped: a group
// stop completes only once the thread picked for the signal gets a CPU, and
// until then another thread may still read and answer a request.
export async function freeze(child, timeoutMs = 10000) {
  child.kill('SIGSTOP');
  const dir = `/proc/${child.pid}/task`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let all = true;
    let seen = 0;
    for (const tid of fs.readdirSync(dir)) {
      let text;
      try { text = fs.readFileSync(`${dir}/${tid}/stat`, 'utf8'); } catch { continue; }
      const state = text.slice(text.lastIndexOf(')') + 2)[0];
      seen++;
      if (state !== 'T' && state !== 't') all = false;
    }
    if (all && seen > 0) return;
    if (Date.now() > deadline) throw new Error('the bridge did not stop after SIGSTOP');
    await sleep(1);
  }
}
