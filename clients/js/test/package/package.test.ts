// The package as a user gets it: `npm pack`, installed into a fresh app
// next to React, resolved by Node (require and import), type-checked under
// the node10, node16 and bundler resolutions, bundled by a real bundler
// (esbuild) and rendered in Chromium against the real bridge with one
// React. Plus the size budget. Needs dist/ (npm test builds it first).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend, launchBrowser, startBridge, waitFor, waitReady } from '../browser/harness.js';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ssebridge-pkg-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function gzippedMin(entry: string): Promise<number> {
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: pkgDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    external: ['react'],
    logLevel: 'silent',
  });
  return gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
}

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

describe('the package', () => {
  it('stays within its size budget (minified + gzipped)', async () => {
    const core = await gzippedMin(`export * from './dist/index.js';`);
    const react = await gzippedMin(`export * from './dist/react.js';`);
    // An app that uses subscribe() and the hooks: all of both entries.
    const both = await gzippedMin(`export * from './dist/index.js'; export * from './dist/react.js';`);
    console.log(`size: core ${core} B, React entry ${react} B, core + React entries ${both} B`);
    expect(core).toBeLessThanOrEqual(3 * 1024);
    expect(react).toBeLessThanOrEqual(4 * 1024);
    expect(both).toBeLessThanOrEqual(4 * 1024);
  });

  it('packs, installs next to React, resolves, type-checks and renders with one React', async () => {
    // --- pack: what is in the tarball
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], pkgDir));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const f of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/react.js', 'dist/cjs/index.js', 'dist/cjs/react.js', 'dist/cjs/package.json', 'dist/index.d.ts', 'dist/cjs/react.d.ts', 'react/package.json']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const m = JSON.parse(readFileSync(path.join(pkgDir, map), 'utf8'));
      expect(m.sourcesContent?.length, map).toBe(m.sources.length);
      expect(m.sourcesContent.every((s: string) => s && s.length > 0), map).toBe(true);
    }
    expect(readFileSync(path.join(pkgDir, 'dist/react.js'), 'utf8').startsWith('"use client";')).toBe(true);

    // --- a fresh app
    const app = path.join(tmp, 'app');
    mkdirSync(app);
    const version = (name: string) => JSON.parse(readFileSync(path.join(pkgDir, 'node_modules', name, 'package.json'), 'utf8')).version;
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'ssebridge-sdk-app',
        private: true,
        type: 'module',
        dependencies: {
          '@ssebridge/client': `file:${path.join(tmp, packed.filename)}`,
          react: version('react'),
          'react-dom': version('react-dom'),
          '@types/react': version('@types/react'),
        },
      }),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    // React is a peer: the SDK brings no copy of its own.
    expect(existsSync(path.join(app, 'node_modules/@ssebridge/client/node_modules/react'))).toBe(false);

    // --- Node resolves both module formats
    run('node', ['-e', `const c = require('@ssebridge/client'); const r = require('@ssebridge/client/react'); const t = require('@ssebridge/client/tabs');
      if (typeof c.subscribe !== 'function' || typeof r.useChannel !== 'function' || typeof t.acrossTabs !== 'function') process.exit(1);`], app);
    run('node', ['--input-type=module', '-e', `import { subscribe } from '@ssebridge/client'; import { useChannel } from '@ssebridge/client/react';
      if (typeof subscribe !== 'function' || typeof useChannel !== 'function') process.exit(1);`], app);

    // --- types under node10 (TypeScript 5: 7 dropped node10), node16 and bundler
    writeFileSync(
      path.join(app, 'check.ts'),
      `import { subscribe, BridgeError } from '@ssebridge/client';
import { useChannel, ChannelClient, TypedUseChannel } from '@ssebridge/client/react';
import { acrossTabs } from '@ssebridge/client/tabs';
type Events = { orders: { orderDone: { id: number } } };
const useApp = useChannel as TypedUseChannel<Events>;
export function check() {
  const s = useApp('orders', 'orderDone');
  const id: number | undefined = s.data?.id;
  // @ts-expect-error: no such event on this channel
  useApp('orders', 'orderGone');
  // @ts-expect-error: the payload's id is a number
  const wrong: string | undefined = useApp('orders', 'orderDone').data?.id;
  const status: 'connecting' | 'open' | 'stale' | 'reconnecting' | 'error' | 'closed' = s.status;
  return [id, wrong, status, s.error, s.lastEventId, subscribe, BridgeError, ChannelClient, acrossTabs];
}
`,
    );
    writeFileSync(path.join(app, 'check-cjs.cts'), `import { subscribe } from '@ssebridge/client';\nimport { useChannel } from '@ssebridge/client/react';\nexport = [subscribe, useChannel];\n`);
    const ts5 = path.join(pkgDir, 'node_modules/typescript5/bin/tsc');
    const ts7 = path.join(pkgDir, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--target', 'es2020', '--lib', 'es2020,dom', '--types', 'react'];
    run('node', [ts5, ...common, '--module', 'commonjs', '--moduleResolution', 'node10', 'check.ts'], app);
    run('node', [ts7, ...common, '--module', 'node16', '--moduleResolution', 'node16', 'check.ts', 'check-cjs.cts'], app);
    run('node', [ts7, ...common, '--module', 'esnext', '--moduleResolution', 'bundler', 'check.ts'], app);

    // --- bundled by a real bundler, rendered in Chromium against the bridge
    writeFileSync(
      path.join(app, 'main.js'),
      `import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { useChannel } from '@ssebridge/client/react';
function Figure() {
  const { data, status } = useChannel('dash', 'stats');
  return createElement('p', { id: 'figure' }, status + ' ' + (data ? data.value : '-'));
}
createRoot(document.getElementById('root')).render(createElement(Figure));
`,
    );
    const web = path.join(app, 'web');
    mkdirSync(web);
    const built = await esbuild.build({
      entryPoints: [path.join(app, 'main.js')],
      absWorkingDir: app,
      bundle: true,
      minify: true,
      format: 'esm',
      outfile: path.join(web, 'main.js'),
      define: { 'process.env.NODE_ENV': '"production"' },
      metafile: true,
      logLevel: 'silent',
    });
    const reactCopies = Object.keys(built.metafile.inputs).filter((f) => /node_modules\/react\/index\.js$/.test(f));
    expect(reactCopies).toEqual(['node_modules/react/index.js']);
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="main.js"></script>');

    const bridge = await startBridge([`--static_dir=${web}`]);
    const browser = await launchBrowser();
    const backend = new Backend(`127.0.0.1:${bridge.grpcPort}`);
    try {
      await waitReady(bridge);
      await backend.publish({ channel: 'dash', event: 'stats', data: '{"value":7}', retain: true });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(bridge.base + '/');
      await waitFor('the figure', async () => (await page.locator('#figure').textContent()) === 'open 7');
      await backend.publish({ channel: 'dash', event: 'stats', data: '{"value":8}', retain: true });
      await waitFor('the next figure', async () => (await page.locator('#figure').textContent()) === 'open 8');
      expect(errors).toEqual([]);
    } finally {
      backend.close();
      await browser.close();
      await bridge.stop();
    }
  }, 600_000);
});
