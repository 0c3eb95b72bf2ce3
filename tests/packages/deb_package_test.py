"""The bridge's Debian package, built by scripts/package.sh (CPack):

- its control data: name, VERSION, Depends computed from the shared
  libraries, the conffile, the maintainer scripts;
- its files, unpacked with dpkg-deb -x: the installed binary runs and says
  its version; the unit is hardened; the env file lists every flag;
- (root only, as in CI) installed on this machine with dpkg -i: the
  ssebridge user exists, the binary started the way the unit starts it (as
  that user, with /etc/default/ssebridge) publishes and delivers an event,
  then dpkg --purge removes every file it installed, the conffile too.
"""
import configparser
import json
import os
import pwd
import re
import shutil
import subprocess
import unittest
import urllib.request

from support import BUILD_DIR, REPO, Bridge, SseReader, run, scratch, version

PACKAGE = "ssebridge"
_deb = None


def deb():
    """Builds the package once per test run; returns its path."""
    global _deb
    if _deb is None:
        out = run([os.path.join(REPO, "scripts", "package.sh"), BUILD_DIR], timeout=1800)
        _deb = out.strip().splitlines()[-1]
    return _deb


def field(name):
    return run(["dpkg-deb", "--field", deb(), name]).strip()


def unit_config(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       empty_lines_in_values=False)
    parser.optionxform = str
    # Repeated keys (SystemCallFilter=) are legal in units: keep the last.
    with open(path) as f:
        text = f.read()
    parser.read_string(text)
    return parser, text


def publish_over_http(http_port, channel, data):
    body = json.dumps({"channel": channel, "data": data}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/publish", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def account_exists(database):
    return subprocess.run(["getent", database, PACKAGE], capture_output=True).returncode == 0


def remove_account(command):
    if account_exists("passwd" if command == "userdel" else "group"):
        run([command, PACKAGE])


class DebControlTest(unittest.TestCase):
    def test_control_fields(self):
        self.assertEqual(field("Package"), PACKAGE)
        self.assertEqual(field("Version"), version())
        depends = {d.strip().split(" ")[0] for d in field("Depends").split(",")}
        # dpkg-shlibdeps found the libraries the binary links.
        for lib in ("libc6", "libstdc++6", "libgrpc++1.51", "libprotobuf32",
                    "libhiredis0.14", "libssl3", "libabsl20220623", "passwd"):
            self.assertIn(lib, depends)
        run(["dpkg-deb", "--ctrl-tarfile", deb()])
        control = scratch(self)
        run(["dpkg-deb", "--control", deb(), control])
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/default/ssebridge"])
        for script in ("postinst", "prerm", "postrm"):
            self.assertTrue(os.access(os.path.join(control, script), os.X_OK), script)

    def test_files_run_and_the_unit_is_hardened(self):
        root = scratch(self)
        run(["dpkg-deb", "-x", deb(), root])
        for path in ("usr/bin/ssebridge", "lib/systemd/system/ssebridge.service",
                     "etc/default/ssebridge", "usr/share/man/man1/ssebridge.1.gz",
                     "usr/share/ssebridge/proto/ssebridge/v1/bridge.proto",
                     "usr/share/doc/ssebridge/CHANGELOG.md"):
            self.assertTrue(os.path.exists(os.path.join(root, path)) or
                            os.path.exists(os.path.join(root, "usr", path)), path)
        binary = os.path.join(root, "usr", "bin", "ssebridge")
        self.assertIn(f"ssebridge {version()} (commit", run([binary, "--version"]))
        self.assertNotIn(".debug_info", run(["readelf", "-S", binary]), "stripped")
        unit_path = os.path.join(root, "usr", "lib", "systemd", "system", "ssebridge.service")
        if not os.path.exists(unit_path):
            unit_path = os.path.join(root, "lib", "systemd", "system", "ssebridge.service")
        unit, text = unit_config(unit_path)
        service = unit["Service"]
        self.assertEqual(service["User"], "ssebridge")
        self.assertEqual(service["ExecStart"], "/usr/bin/ssebridge")
        self.assertEqual(service["EnvironmentFile"], "-/etc/default/ssebridge")
        self.assertEqual(service["ProtectSystem"], "strict")
        self.assertEqual(service["NoNewPrivileges"], "yes")
        self.assertEqual(service["Restart"], "on-failure")
        self.assertGreaterEqual(int(service["LimitNOFILE"]), 18000 + 1024,
                                "room for --max_connections streams")
        self.assertEqual(service["CapabilityBoundingSet"], "")
        if shutil.which("systemd-analyze"):
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit_path],
                               capture_output=True, text=True)
            # Offline it cannot find the user or the binary; anything else is
            # a mistake in the unit (unknown key, bad value).
            problems = [l for l in r.stderr.splitlines()
                        if l.strip() and "ssebridge.service" in l and
                        not re.search(r"/usr/bin/ssebridge|Failed to |not found|"
                                      r"No such file|Unit .* not found", l)]
            self.assertEqual(problems, [], r.stderr)
        # The env file names every flag the binary has.
        with open(os.path.join(root, "etc", "default", "ssebridge")) as f:
            env = f.read()
        # Abseil's --help exits 1 after printing.
        helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
        flags = set(re.findall(r"^    --(\w+) ", helptext, re.M))
        self.assertGreater(len(flags), 30)
        for flag in flags:
            self.assertIn(f"#SSEBRIDGE_{flag.upper()}=", env)
        # The unpacked binary serves: publish over HTTP, receive over SSE.
        bridge = Bridge(binary=binary)
        self.addCleanup(bridge.stop)
        sse = SseReader(bridge.http_port, ["deb"])
        self.addCleanup(sse.close)
        ack = publish_over_http(bridge.http_port, "deb", "from the unpacked package")
        [event] = sse.wait_for(1)
        self.assertEqual((event["id"], event["data"]), (ack["id"], "from the unpacked package"))


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("dpkg"),
                     "installing into the machine needs root and dpkg (CI runs as root)")
class DebInstallTest(unittest.TestCase):
    def setUp(self):
        if subprocess.run(["dpkg", "-s", PACKAGE], capture_output=True).returncode == 0:
            # Left by an interrupted run of this test (or installed by hand).
            run(["dpkg", "--purge", PACKAGE])
        # The package keeps its system user after a purge (Debian's advice);
        # a test machine gets back the accounts it had.
        # Cleanups run last-in first-out: the user goes before its group.
        if not account_exists("group"):
            self.addCleanup(remove_account, "groupdel")
        if not account_exists("passwd"):
            self.addCleanup(remove_account, "userdel")

    def test_install_run_as_the_service_and_purge(self):
        run(["dpkg", "-i", deb()])
        self.addCleanup(subprocess.run, ["dpkg", "--purge", PACKAGE], capture_output=True)
        files = [l for l in run(["dpkg", "-L", PACKAGE]).splitlines() if os.path.isfile(l)]
        self.assertIn("/usr/bin/ssebridge", files)
        user = pwd.getpwnam("ssebridge")
        self.assertEqual(user.pw_shell, "/usr/sbin/nologin")
        self.assertIn(f"ssebridge {version()} (commit", run(["/usr/bin/ssebridge", "--version"]))

        # What systemd would do: the unit's user and env file. The test's
        # ports go into the conffile, as an admin's settings would.
        with open("/etc/default/ssebridge", "a") as f:
            f.write("SSEBRIDGE_HTTP_ADDRESS=127.0.0.1\nSSEBRIDGE_HTTP_PORT=0\n"
                    "SSEBRIDGE_GRPC_ADDRESS=127.0.0.1\nSSEBRIDGE_GRPC_PORT=0\n"
                    "SSEBRIDGE_ADMIN_ADDRESS=127.0.0.1\nSSEBRIDGE_ADMIN_PORT=0\n")
        env = {}
        with open("/etc/default/ssebridge") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    env[key] = value
        bridge = Bridge(binary="/usr/bin/ssebridge", env=env, flags_from_env=True,
                        prefix=["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                                "--clear-groups", "--no-new-privs"])
        self.addCleanup(bridge.stop)
        sse = SseReader(bridge.http_port, ["installed"])
        self.addCleanup(sse.close)
        ack = publish_over_http(bridge.http_port, "installed", "from the installed package")
        [event] = sse.wait_for(1)
        self.assertEqual((event["id"], event["data"]), (ack["id"], "from the installed package"))
        # setpriv exec()s the bridge: the same process, now owned by ssebridge.
        self.assertEqual(os.stat(f"/proc/{bridge.proc.pid}").st_uid, user.pw_uid)
        sse.close()
        self.assertEqual(bridge.stop(), 0, "SIGTERM drains and exits 0")

        run(["dpkg", "--purge", PACKAGE])
        left = [f for f in files if os.path.exists(f)]
        self.assertEqual(left, [], "files left after dpkg --purge")
        self.assertFalse(os.path.exists("/etc/default/ssebridge"))
        self.assertNotEqual(subprocess.run(["dpkg", "-s", PACKAGE],
                                           capture_output=True).returncode, 0)
        # Kept, as the postrm says, so that files it owned keep an owner.
        self.assertTrue(account_exists("passwd"), "the ssebridge user outlives the purge")


if __name__ == "__main__":
    unittest.main()
