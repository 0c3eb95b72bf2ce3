"""The C++ client as CMake and pkg-config users get it: `cmake --install
--component cpp` into a temporary prefix, then a tiny consumer project built
against that prefix only (find_package(ssebridge CONFIG REQUIRED), and again
with `pkg-config ssebridge`), run against the real bridge."""
import os
import shutil
import unittest

from support import BUILD_DIR, Bridge, SseReader, run, scratch, version

CONSUMER_CMAKE = """cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(ssebridge {version} CONFIG REQUIRED)
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE ssebridge::publisher)
"""

CONSUMER_MAIN = r"""#include <iostream>
#include "ssebridge/publisher.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;  // the public gRPC target, the internal (Admin) one
  ssebridge::PublisherOptions options;
  options.target = argv[1];
  auto pub = ssebridge::Publisher::Create(options);
  if (!pub.ok()) { std::cerr << pub.status() << "\n"; return 1; }
  options.target = argv[2];
  auto admin = ssebridge::Publisher::Create(options);
  if (!admin.ok()) { std::cerr << admin.status() << "\n"; return 1; }
  ssebridge::Event e;
  e.channel = "cpp-pkg";
  e.event = "installed";
  e.data = "from the installed library";
  auto ack = (*pub)->Publish(e);
  if (!ack.ok()) { std::cerr << ack.status() << "\n"; return 1; }
  auto batches = (*pub)->OpenBatchStream();
  e.event = "batched";
  auto batch = batches->PublishBatch({e});
  if (!batch.ok() || batch->size() != 1 || !(*batch)[0].ok()) {
    std::cerr << "PublishBatchStream failed\n";
    return 1;
  }
  if (auto ended = batches->Finish(); !ended.ok()) { std::cerr << ended << "\n"; return 1; }
  auto stats = (*admin)->GetStats();
  if (!stats.ok()) { std::cerr << stats.status() << "\n"; return 1; }
  std::cout << ack->id << " " << (*batch)[0]->id << " " << stats->published << "\n";
  return 0;
}
"""


class CppPackageTest(unittest.TestCase):
    def test_installed_package_builds_a_consumer_that_publishes(self):
        root = scratch(self)
        prefix = os.path.join(root, "prefix")
        run(["cmake", "--install", BUILD_DIR, "--component", "cpp", "--prefix", prefix])
        cmake_dir = [d for d, _, files in os.walk(prefix) if "ssebridgeConfig.cmake" in files]
        self.assertEqual(len(cmake_dir), 1, "one ssebridgeConfig.cmake")
        pc_dir = [d for d, _, files in os.walk(prefix) if "ssebridge.pc" in files]
        self.assertEqual(len(pc_dir), 1, "one ssebridge.pc")
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "ssebridge",
                                                    "v1", "bridge.grpc.pb.h")))

        src = os.path.join(root, "consumer")
        os.mkdir(src)
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write(CONSUMER_CMAKE.format(version=version()))
        with open(os.path.join(src, "main.cc"), "w") as f:
            f.write(CONSUMER_MAIN)
        build = os.path.join(root, "consumer-build")
        # Only the temporary prefix is searched: nothing from the build tree.
        run(["cmake", "-S", src, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
             "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON", "-DCMAKE_BUILD_TYPE=Release"])
        run(["cmake", "--build", build, "-j2"], timeout=900)

        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir[0])
        self.assertEqual(run(["pkg-config", "--modversion", "ssebridge"], env=env).strip(),
                         version())
        flags = run(["pkg-config", "--cflags", "--libs", "ssebridge"], env=env).split()
        pc_binary = os.path.join(root, "consumer-pc")
        compiler = [shutil.which("ccache"), "c++"] if shutil.which("ccache") else ["c++"]
        run([*compiler, "-std=c++17", "-o", pc_binary, os.path.join(src, "main.cc"), *flags,
             "-pthread"], timeout=900)

        bridge = Bridge()
        self.addCleanup(bridge.stop)
        sse = SseReader(bridge.http_port, ["cpp-pkg"])
        self.addCleanup(sse.close)
        ids = []
        for binary in (os.path.join(build, "consumer"), pc_binary):
            ack_id, batch_id, published = run([binary, bridge.target, bridge.admin_target], timeout=60).split()
            ids += [(ack_id, "installed"), (batch_id, "batched")]
            self.assertGreaterEqual(int(published), len(ids))
        events = sse.wait_for(4)
        self.assertEqual([(e["id"], e["event"], e["data"]) for e in events],
                         [(i, ev, "from the installed library") for i, ev in ids])


if __name__ == "__main__":
    unittest.main()
