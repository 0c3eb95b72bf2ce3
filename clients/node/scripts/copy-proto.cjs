// npm pack's prepack/postpack: the package carries the repository's proto
// (one source of truth, proto/ssebridge/v1/bridge.proto), so an installed
// package loads it from <package>/proto. Also refuses to pack a version
// other than the repository's VERSION file (one version for every artefact).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.join(__dirname, '..');
const repo = path.join(pkgDir, '..', '..');
const dest = path.join(pkgDir, 'proto');

if (process.argv.includes('--clean')) {
  fs.rmSync(dest, { recursive: true, force: true });
  process.exit(0);
}
const version = fs.readFileSync(path.join(repo, 'VERSION'), 'utf8').trim();
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (pkg.version !== version) {
  console.error(`package.json version ${pkg.version} is not VERSION ${version}: set it with ` +
    `npm version --no-git-tag-version ${version}`);
  process.exit(1);
}
fs.mkdirSync(path.join(dest, 'ssebridge', 'v1'), { recursive: true });
fs.copyFileSync(path.join(repo, 'proto', 'ssebridge', 'v1', 'bridge.proto'),
  path.join(dest, 'ssebridge', 'v1', 'bridge.proto'));
