// Test harness for the browser tests: the real ssebridge binary (and a
// redis-server for the restart test) on loopback ports, a gRPC publisher,
// a static server for the test pages, and headless Chromium.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as esbuild from 'esbuild';
import { Browser, chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../../..');

export function bridgeBinary(): string {
  const bin = process.env.SSEBRIDGE_BINARY ?? path.join(repoRoot, 'build/release/ssebridge');
  if (!existsSync(bin)) {
    throw new Error(`ssebridge binary not found at ${bin}: build it (scripts/build.sh release) or set SSEBRIDGE_BINARY`);
  }
  return bin;
}

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Bridge {
  httpPort: number;
  grpcPort: number;
  epoch: string;
  base: string; // http://127.0.0.1:<port>
  adminBase: string; // the internal listener (/metrics, /ui)
  log: string[];
  proc: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts the bridge; ports 0 unless given (a restart passes the old ones). */
export async function startBridge(
  flags: string[] = [],
  ports: { http?: number; grpc?: number } = {},
): Promise<Bridge> {
  const args = [
    '--http_address=127.0.0.1',
    '--grpc_address=127.0.0.1',
    `--http_port=${ports.http ?? 0}`,
    `--grpc_port=${ports.grpc ?? 0}`,
    '--admin_address=127.0.0.1',
    '--admin_port=0',
    ...flags,
  ];
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SSEBRIDGE_')),
  );
  const proc = spawn(bridgeBinary(), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      exited = code;
      resolve(code);
    }),
  );
  return new Promise<Bridge>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`bridge did not start in time:\n${log.join('\n')}`)),
      20_000,
    );
    proc.stderr!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        log.push(line);
        let j: any;
        try {
          j = JSON.parse(line);
        } catch {
          continue;
        }
        if (j.msg === 'listening') {
          clearTimeout(timer);
          resolve({
            httpPort: j.http_port,
            grpcPort: j.grpc_port,
            epoch: j.epoch,
            base: `http://127.0.0.1:${j.http_port}`,
            adminBase: `http://127.0.0.1:${j.admin_port}`,
            log,
            proc,
            async stop() {
              if (exited !== undefined) return exited;
              proc.kill('SIGTERM');
              const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
              const code = await exit;
              clearTimeout(killer);
              return code;
            },
          });
        }
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited (${code}) before listening:\n${log.join('\n')}`));
    });
  });
}

/** Polls /readyz until 200 (a Redis broker must have connected first). */
export async function waitReady(bridge: Bridge): Promise<void> {
  await waitFor('bridge ready', async () => (await fetch(`${bridge.base}/readyz`)).status === 200, 20_000);
}

export interface Redis {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that keeps its connections and answers nothing. */
  freeze(): void;
  thaw(): void;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(50);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
    freeze: () => proc.kill('SIGSTOP'),
    thaw: () => proc.kill('SIGCONT'),
  };
}

// ---- Redis Sentinel ----------------------------------------------------------

/** A RESP reply: strings and numbers, arrays as arrays, nil as null, an error reply as an Error. */
export type RespValue = string | number | null | Error | RespValue[];

// Parses one reply from buf at `at`: [value, next offset], or undefined while incomplete.
function parseResp(buf: Buffer, at: number): [RespValue, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`RESP: unexpected type ${JSON.stringify(type)}`);
  }
}

/** One command on a fresh connection to 127.0.0.1:port; rejects on I/O failure or timeout. */
export function respCommand(port: number, argv: string[], timeoutMs = 2000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const s = net.connect(port, '127.0.0.1', () =>
      s.write(`*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')),
    );
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`RESP ${argv[0]} to ${port}: timed out`)));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResp(buf, 0);
      if (r) {
        s.destroy();
        resolve(r[0]);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`RESP ${argv[0]} to ${port}: closed`)));
  });
}

export interface SentinelCluster {
  /** For --redis_sentinels. */
  sentinels: string;
  master: string;
  primaryPort(): number;
  replicaPort(): number;
  /** SIGKILL of the primary: what it had not replicated is lost. */
  killPrimary(): void;
  /**
   * Makes the replica lag for sure: SIGSTOP it (it cannot reconnect), then the
   * primary drops its replication link; writes from now on reach the primary
   * only. resumeReplica() (SIGCONT) after killPrimary(), before the sentinels
   * give up on it.
   */
  cutOffReplica(): Promise<void>;
  resumeReplica(): void;
  /** Until every sentinel names the replica and it answers ROLE as a master; then it is the primary. */
  waitFailover(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Sentinel setup, as tests/harness/redis_sentinel_cluster.h in
 * C++: a primary, one replica and three redis-sentinel processes (quorum 2,
 * down-after 1s) on free loopback ports, each with its own directory.
 * Started once the replica is in sync and every sentinel sees the master,
 * the replica and the two other sentinels.
 */
export async function startSentinelCluster(): Promise<SentinelCluster> {
  const master = 'mymaster';
  const sentinelBin = ['/usr/bin/redis-sentinel', '/usr/local/bin/redis-sentinel'].find((p) => existsSync(p));
  if (!sentinelBin) throw new Error('redis-sentinel is not installed (apt-get install redis-sentinel)');
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  const spawnIn = async (args: (dir: string, port: number) => string[], bin: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssebridge-sentinel-'));
    dirs.push(dir);
    const port = await freePort();
    const proc = spawn(bin, args(dir, port), { stdio: 'ignore' });
    procs.push(proc);
    await waitFor(`${path.basename(bin)} on ${port}`, async () => (await respCommand(port, ['PING'])) === 'PONG', 10_000);
    return { port, proc };
  };
  try {
    const server = (replicaOf?: number) => (dir: string, port: number) => [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--loglevel', 'warning', '--logfile', path.join(dir, 'redis.log'),
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
    const nodes = [await spawnIn(server(), 'redis-server')];
    nodes.push(await spawnIn(server(nodes[0].port), 'redis-server'));
    await waitFor('the replica in sync', async () =>
      String(await respCommand(nodes[1].port, ['INFO', 'replication'])).includes('master_link_status:up'), 20_000);
    const sentinels: { port: number; proc: ChildProcess }[] = [];
    for (let i = 0; i < 3; i++) {
      sentinels.push(await spawnIn((dir, port) => {
        const conf = path.join(dir, 'sentinel.conf');
        writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`, `logfile ${path.join(dir, 'sentinel.log')}`,
          `sentinel monitor ${master} 127.0.0.1 ${nodes[0].port} 2`,
          `sentinel down-after-milliseconds ${master} 1000`,
          `sentinel failover-timeout ${master} 3000`,
          `sentinel parallel-syncs ${master} 1`, '',
        ].join('\n'));
        return [conf];
      }, sentinelBin));
    }
    let primary = 0;
    const field = (flat: RespValue, name: string) => {
      const a = flat as RespValue[];
      for (let i = 0; i + 1 < a.length; i += 2) if (a[i] === name) return String(a[i + 1]);
      return '';
    };
    await waitFor('the sentinels agree on the master, its replica and each other', async () => {
      for (const s of sentinels) {
        const m = await respCommand(s.port, ['SENTINEL', 'master', master]);
        if (!Array.isArray(m) || field(m, 'port') !== String(nodes[0].port) || field(m, 'num-slaves') !== '1' ||
            field(m, 'num-other-sentinels') !== '2' || field(m, 'flags') !== 'master') {
          return false;
        }
      }
      return true;
    }, 30_000);
    const agreedPort = async () => {
      let agreed = 0;
      for (const s of sentinels) {
        const a = await respCommand(s.port, ['SENTINEL', 'get-master-addr-by-name', master]);
        if (!Array.isArray(a)) return 0;
        const port = Number(a[1]);
        if (agreed && port !== agreed) return 0;
        agreed = port;
      }
      return agreed;
    };
    return {
      sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      master,
      primaryPort: () => nodes[primary].port,
      replicaPort: () => nodes[1 - primary].port,
      killPrimary: () => nodes[primary].proc.kill('SIGKILL'),
      async cutOffReplica() {
        nodes[1 - primary].proc.kill('SIGSTOP');
        const killed = await respCommand(nodes[primary].port, ['CLIENT', 'KILL', 'TYPE', 'replica']);
        if (killed !== 1) {
          nodes[1 - primary].proc.kill('SIGCONT');
          throw new Error(`CLIENT KILL TYPE replica on the primary: ${String(killed)}`);
        }
      },
      resumeReplica: () => nodes[1 - primary].proc.kill('SIGCONT'),
      async waitFailover(timeoutMs: number) {
        const replica = nodes[1 - primary].port;
        await waitFor(`a failover to ${replica}`, async () => {
          if ((await agreedPort()) !== replica) return false;
          const role = await respCommand(replica, ['ROLE']);
          return Array.isArray(role) && role[0] === 'master';
        }, timeoutMs);
        primary = 1 - primary;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---- HAProxy ---------------------------------------------------------------

export interface Haproxy {
  base: string; // http://127.0.0.1:<port>
  /** Points server slot `slot` at a replica's HTTP port (admin socket). */
  setBackend(slot: number, httpPort: number): Promise<void>;
  /** HAProxy's health checks count slot `slot` as up. */
  backendUp(slot: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * A real HAProxy in front of replicas, configured as the README's
 * production topology: /readyz health checks (every 200 ms here, so the
 * test stays short) and an hour's server timeout for streams.
 */
export async function startHaproxy(backendPorts: number[]): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssebridge-haproxy-'));
  const sock = path.join(dir, 'admin.sock');
  const port = await freePort();
  const cfg = [
    'global',
    '  maxconn 2000',
    '  noreuseport',
    `  stats socket ${sock} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout http-request 10s',
    '  option redispatch',
    '  retries 2',
    'frontend events',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 1',
    ...backendPorts.map((p, i) => `  server r${i} 127.0.0.1:${p} check`),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
  const bin = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
  const proc = spawn(bin, ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const admin = (command: string) =>
    new Promise<string>((resolve) => {
      let out = '';
      const s = net.connect(sock, () => s.write(command + '\n'));
      s.setTimeout(5000, () => s.destroy());
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(''));
    });
  const backendUp = async (slot: number) =>
    (await admin('show stat'))
      .split('\n')
      .map((l) => l.split(','))
      .some((c) => c[0] === 'replicas' && c[1] === `r${slot}` && (c[17] ?? '').startsWith('UP'));
  await waitFor('haproxy', async () => {
    if (proc.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
    return (await admin('show info')).includes('Pid:');
  }, 20_000);
  return {
    base: `http://127.0.0.1:${port}`,
    async setBackend(slot, httpPort) {
      const answer = await admin(`set server replicas/r${slot} addr 127.0.0.1 port ${httpPort}`);
      if (!answer.includes('changed') && !answer.includes('no need to change')) {
        throw new Error(`haproxy: set server r${slot}: ${answer}`);
      }
    },
    backendUp,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- gRPC ------------------------------------------------------------------

const packageDef = protoLoader.loadSync(path.join(repoRoot, 'proto/ssebridge/v1/bridge.proto'), {
  keepCase: true,
  longs: String,
  defaults: true,
  includeDirs: [path.join(repoRoot, 'proto')],
});
const proto = grpc.loadPackageDefinition(packageDef) as any;

export interface PublishRequest {
  channel: string;
  event?: string;
  data: string;
  user_ids?: string[];
  retain?: boolean;
}

export class Backend {
  private readonly publisher: any;
  private readonly tickets: any;
  private readonly md: grpc.Metadata;
  /** `key`: a publisher key (`--publisher_keys_file`) sent as a Bearer token. */
  constructor(target: string, key?: string) {
    this.md = new grpc.Metadata();
    if (key) this.md.add('authorization', `Bearer ${key}`);
    // Own subchannels: a bridge restarted on the same port must not be
    // reached through a pooled connection still backing off from the old one.
    const options = { 'grpc.use_local_subchannel_pool': 1 };
    this.publisher = new proto.ssebridge.v1.Publisher(target, grpc.credentials.createInsecure(), options);
    this.tickets = new proto.ssebridge.v1.Tickets(target, grpc.credentials.createInsecure(), options);
  }
  publish(req: PublishRequest): Promise<{ id: string; subscribers: number }> {
    return new Promise((resolve, reject) =>
      this.publisher.Publish(
        req,
        this.md,
        { deadline: Date.now() + 10_000, waitForReady: true },
        (err: Error | null, res: any) => (err ? reject(err) : resolve(res)),
      ),
    );
  }
  /** Publishes over one PublishStream; resolves with the ids in order. */
  publishStream(reqs: PublishRequest[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const call = this.publisher.PublishStream(this.md);
      const ids: string[] = [];
      call.on('data', (res: any) => {
        if (res.error && res.error.message) {
          reject(new Error(res.error.message));
          return;
        }
        ids.push(res.id);
        if (ids.length === reqs.length) call.end();
      });
      call.on('error', reject);
      call.on('end', () => resolve(ids));
      for (const r of reqs) call.write(r);
    });
  }
  issueTicket(user: string, channels: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      this.tickets.IssueTicket(
        { user_id: user, channels, ttl_seconds: 30 },
        this.md,
        { deadline: Date.now() + 10_000, waitForReady: true },
        (err: Error | null, res: any) => (err ? reject(err) : resolve(res.ticket)),
      ),
    );
  }
  close() {
    this.publisher.close();
    this.tickets.close();
  }
}

// ---- pages -----------------------------------------------------------------

/** Serves test/browser/pages with the SDK bundled in (esbuild). */
export async function startPageServer(): Promise<{ base: string; close(): Promise<void> }> {
  const bundle = await esbuild.build({
    entryPoints: [path.join(here, 'pages/entry.ts')],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2020',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const js = bundle.outputFiles[0].text;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/entry.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
      return;
    }
    const file = path.join(here, 'pages', url.pathname === '/' ? 'index.html' : url.pathname);
    if (!file.startsWith(path.join(here, 'pages')) || !existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function metric(bridge: Bridge, name: string): Promise<number> {
  const text = await (await fetch(`${bridge.adminBase}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.split(' ')[1]);
}

export function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value; fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(50);
  }
}
