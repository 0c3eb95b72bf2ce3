// Test harness for the browser tests: the real ssebridge binary on loopback
// ports, a gRPC publisher, a static server for the test pages, and headless
// Chromium. Redis, Sentinel and HAProxy are in processes.ts, the waiting
// helpers in wait.ts; both are re-exported here.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as esbuild from 'esbuild';
import { Browser, chromium } from 'playwright-core';
import { freePort, waitFor } from './wait.js';

export { freePort, sleep, waitFor } from './wait.js';
// Redis, Sentinel and HAProxy: processes.ts.
export * from './processes.js';

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
