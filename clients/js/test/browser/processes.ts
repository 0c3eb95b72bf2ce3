// The processes around the bridges in the browser tests: redis-server, a
// Sentinel cluster (a primary, a replica, three redis-sentinel), HAProxy,
// and a minimal RESP client to drive them. Each is started on free loopback
// ports and stopped by PID.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { freePort, sleep, waitFor } from './wait.js';

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
