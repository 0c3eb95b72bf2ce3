// Builds the package into dist/:
//   dist/*.js, *.js.map      ES modules, one per source file (tree-shakable)
//   dist/cjs/*.js, *.js.map  the same as CommonJS (dist/cjs/package.json
//                            says so), for require() and old tooling
//   dist/*.d.ts, dist/cjs/*.d.ts  types (tsc), the CJS copy typed as CJS
// Source maps carry their sources (sourcesContent), so nothing points at
// files that are not shipped. Private class members (read from the .d.ts
// `private` declarations, and internal fields named with a trailing `_`)
// get short names: the size budget is what an app
// pays after its own minifier, which never renames properties.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--emitDeclarationOnly'], {
  cwd: root,
  stdio: 'inherit',
});

// Names that are private somewhere but also public or a DOM/option name
// elsewhere must keep their spelling.
const keep = new Set(['abort', 'attempt', 'channel', 'channels', 'close', 'cursor', 'data', 'id', 'options', 'permanent', 'status', 'type', 'event', 'error', 'state', 'start', 'connect']);
const privates = new Set();
for (const f of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
  for (const m of readFileSync(path.join(dist, f), 'utf8').matchAll(/private (?:readonly )?([A-Za-z_]\w*)/g)) {
    if (!keep.has(m[1])) privates.add(m[1]);
  }
}
// Internal object fields end in `_` and are shortened too.
const mangleProps = new RegExp(`^(${[...privates].join('|')}|\\w+_)$`);
const mangleCache = {};
const entryPoints = readdirSync(path.join(root, 'src'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(root, 'src', f));
for (const [format, outdir] of [
  ['esm', dist],
  ['cjs', path.join(dist, 'cjs')],
]) {
  const result = await esbuild.build({
    entryPoints,
    outdir,
    format,
    bundle: false,
    target: 'es2020',
    sourcemap: true,
    sourcesContent: true,
    mangleProps,
    mangleCache,
    logLevel: 'warning',
  });
  Object.assign(mangleCache, result.mangleCache);
}
writeFileSync(path.join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n');
for (const f of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
  cpSync(path.join(dist, f), path.join(dist, 'cjs', f));
}
