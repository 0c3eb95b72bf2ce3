"""@ssebridge/publisher as npm users get it: `npm pack` of clients/node,
the tarball installed into an empty project, then used through import and
require (and type-checked with tsc) to publish to the real bridge."""
import json
import os
import tarfile
import unittest

from support import REPO, Bridge, SseReader, run, scratch, version

NODE_DIR = os.path.join(REPO, "clients", "node")

ESM = """
import { Publisher, PublishError, status } from '@ssebridge/publisher';
const pub = new Publisher({ target: process.argv[2] });
// Admin is served on the internal port.
const admin = new Publisher({ target: process.argv[3] });
const ack = await pub.publish({ channel: 'pkg', event: 'esm', data: { via: 'import' } });
const [batch] = await pub.publishBatch([{ channel: 'pkg', event: 'batch', data: 'b' }]);
const stream = pub.batchStream();
const [streamed] = await stream.send([{ channel: 'pkg', event: 'bstream', data: 's' }]);
await stream.end();
const stats = await admin.getStats();
admin.close();
const aborted = new AbortController();
aborted.abort();
let code = null;
try { await pub.publish({ channel: 'pkg', data: 'never' }, { signal: aborted.signal }); }
catch (err) { code = err instanceof PublishError ? err.code : 'other'; }
pub.close();
console.log(JSON.stringify({ id: ack.id, batchId: batch.ack.id, streamedId: streamed.ack.id,
  published: stats.published,
  abortedCode: code, cancelled: status.CANCELLED }));
"""

CJS = """
const { Publisher } = require('@ssebridge/publisher');
const pub = new Publisher({ target: process.argv[2] });
pub.publish({ channel: 'pkg', event: 'cjs', data: 'via require' }).then((ack) => {
  pub.close();
  console.log(JSON.stringify({ id: ack.id }));
});
"""

TS = """
import { Publisher, PublishBatchStream, type Ack, type BatchResult, type Stats }
  from '@ssebridge/publisher';
const pub = new Publisher({ target: 'localhost:1', timeoutMs: 1000 });
const controller = new AbortController();
const ack: Promise<Ack> = pub.publish({ channel: 'c', data: 1 }, { signal: controller.signal });
const stats: Promise<Stats> = pub.getStats({ signal: controller.signal, maxChannels: 5 });
const bs: PublishBatchStream = pub.batchStream({ maxInFlight: 4 });
const results: Promise<BatchResult[]> = bs.send([{ channel: 'c', data: 'x' }]);
bs.close();
void ack; void stats; void results;
"""

TS_CJS = """
import pkg = require('@ssebridge/publisher');
const pub = new pkg.Publisher({ target: 'localhost:1' });
const t: Promise<pkg.Ticket> = pub.issueTicket({ userId: 'u', channels: ['a'] },
  { signal: AbortSignal.timeout(100) });
void t;
"""


class NodePackageTest(unittest.TestCase):
    def test_packed_tarball_installs_and_publishes(self):
        out = scratch(self)
        packed = json.loads(run(["npm", "pack", "--json", "--pack-destination", out],
                                cwd=NODE_DIR))
        tarball = os.path.join(out, packed[0]["filename"])
        self.assertEqual(packed[0]["version"], version())
        with tarfile.open(tarball) as t:
            names = set(t.getnames())
        for needed in ("package/proto/ssebridge/v1/bridge.proto", "package/src/index.cjs",
                       "package/src/index.js", "package/src/index.d.ts",
                       "package/src/index.d.cts", "package/README.md"):
            self.assertIn(needed, names)
        self.assertFalse(os.path.exists(os.path.join(NODE_DIR, "proto")),
                         "postpack leaves no copy of the proto in the checkout")

        project = os.path.join(out, "app")
        os.mkdir(project)
        with open(os.path.join(project, "package.json"), "w") as f:
            json.dump({"name": "app", "version": "1.0.0", "private": True}, f)
        run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball],
            cwd=project)
        for name, text in (("esm.mjs", ESM), ("cjs.cjs", CJS), ("use.ts", TS),
                           ("use_cjs.cts", TS_CJS)):
            with open(os.path.join(project, name), "w") as f:
                f.write(text)

        # The types: strict, Node's own module resolution (exports conditions).
        tsc = os.path.join(NODE_DIR, "node_modules", ".bin", "tsc")
        run([tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution",
             "nodenext", "--target", "es2022", "--skipLibCheck",
             "--typeRoots", os.path.join(NODE_DIR, "node_modules", "@types"),
             "--types", "node", "use.ts", "use_cjs.cts"], cwd=project)

        bridge = Bridge()
        self.addCleanup(bridge.stop)
        sse = SseReader(bridge.http_port, ["pkg"])
        self.addCleanup(sse.close)
        esm = json.loads(run(["node", "esm.mjs", bridge.target, bridge.admin_target], cwd=project, timeout=60))
        cjs = json.loads(run(["node", "cjs.cjs", bridge.target], cwd=project, timeout=60))
        events = sse.wait_for(4)
        self.assertEqual([(e["id"], e["event"], e["data"]) for e in events],
                         [(esm["id"], "esm", '{"via":"import"}'),
                          (esm["batchId"], "batch", "b"),
                          (esm["streamedId"], "bstream", "s"),
                          (cjs["id"], "cjs", "via require")])
        self.assertGreaterEqual(esm["published"], 3)
        self.assertEqual(esm["abortedCode"], esm["cancelled"])


if __name__ == "__main__":
    unittest.main()
