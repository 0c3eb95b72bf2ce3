"""The peers ssebridge is measured against: Nchan (nginx), Pushpin and
better-sse, each configured equivalently and started on 127.0.0.1."""

import os
import shutil
import socket
import subprocess
import sys
import time

from .procs import CORES, HERE, NCHAN_MODULE, free_port, spawn, stop_process, wait_log_json, wait_port
from .systems import System

class Nchan(System):
    name = "nchan"
    note = "nginx + libnginx-mod-nchan, worker_processes = cores, memory store"

    def available(self):
        if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
            return False, "nginx is not installed"
        if not os.path.exists(NCHAN_MODULE):
            return False, "libnginx-mod-nchan is not installed"
        return True, ""

    def start(self):
        self.tmp = self.ctx.tmpdir("nchan")
        os.chmod(self.tmp, 0o755)
        if os.geteuid() == 0:
            for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.makedirs("/var/lib/nginx/" + d, exist_ok=True)
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            p = os.path.join(self.tmp, d)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, 0o777)
        self.http_port = free_port()
        t = self.tmp
        conf = f"""
load_module {NCHAN_MODULE};
worker_processes {CORES};
worker_rlimit_nofile 20000;
pid {t}/nginx.pid;
error_log {t}/error.log warn;
daemon off;
master_process on;
events {{
    worker_connections 19000;
    multi_accept on;
}}
http {{
    access_log off;
    client_body_temp_path {t}/client_body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    nchan_shared_memory_size 256m;
    server {{
        listen 127.0.0.1:{self.http_port} backlog=4096;
        location = /sub {{
            nchan_subscriber;
            nchan_channel_id $arg_id;
            nchan_subscriber_first_message newest;
            nchan_eventsource_ping_interval 15;
        }}
        location = /pub {{
            nchan_publisher;
            nchan_channel_id $arg_id;
            nchan_message_buffer_length 1000;
            nchan_message_timeout 1h;
        }}
    }}
}}
"""
        path = os.path.join(t, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.log = os.path.join(t, "stderr.log")
        self.proc = spawn(["nginx", "-p", t, "-c", path, "-e", os.path.join(t, "error.log")],
                          stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        wait_port(self.http_port, 15, self.proc)

    def sub_path(self, channel):
        return "/sub?id=" + channel

    def pub_args(self, channel, ingest=False):
        return ["--mode=http", "--format=nchan", "--port=%d" % self.http_port,
                "--path=/pub?id=" + channel, "--channel=" + channel,
                "--conns=%d" % (8 if ingest else self.pub_conns)]


class Pushpin(System):
    name = "pushpin"
    connect_rate = 1500   # every new stream is a request to the GRIP backend
    max_pending = 32      # condure drops SYNs (1 s, 3 s, 7 s... retransmits) beyond that
    note = ("condure + zurl + pushpin-proxy + pushpin-handler; message_rate/"
            "message_hwm raised; the GRIP backend's own CPU/RSS is not counted")

    def available(self):
        for b in ("pushpin", "condure", "zurl"):
            if not shutil.which(b):
                return False, "%s is not installed" % b
        return True, ""

    def start(self):
        self.tmp = self.ctx.tmpdir("pushpin")
        t = self.tmp
        run, logd = os.path.join(t, "run"), os.path.join(t, "log")
        os.makedirs(run, exist_ok=True)
        os.makedirs(logd, exist_ok=True)
        self.http_port, self.pub_port, backend = free_port(), free_port(), free_port()
        with open(os.path.join(t, "routes"), "w") as f:
            f.write("* 127.0.0.1:%d\n" % backend)
        conf = f"""[global]
include={{libdir}}/internal.conf
rundir={run}
ipc_prefix=pushpin-
port_offset=0
stats_connection_ttl=120

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port={self.http_port}
logdir={logd}
log_level=1
client_buffer_size=8192
client_maxconn=50000
condure_bin=condure
zurl_bin=zurl

[proxy]
routesfile={t}/routes
debug=false
auto_cross_origin=false
accept_x_forwarded_protocol=false
set_x_forwarded_protocol=proto-only
x_forwarded_for=
x_forwarded_for_trusted=
orig_headers_need_mark=
accept_pushpin_route=false
log_from=false
log_user_agent=false
sig_iss=pushpin
sig_key=changeme
upstream_key=
updates_check=off
zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in
zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream
zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out

[handler]
push_in_spec=ipc://{{rundir}}/{{ipc_prefix}}push-in
push_in_sub_specs=ipc://{{rundir}}/{{ipc_prefix}}push-in-sub
push_in_sub_connect=false
push_in_http_addr=127.0.0.1
push_in_http_port={self.pub_port}
push_in_http_max_headers_size=10000
push_in_http_max_body_size=1000000
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
command_spec=ipc://{{rundir}}/{{ipc_prefix}}command
message_rate=200000
message_hwm=2000000
message_wait=5000
id_cache_ttl=60
connection_subscription_max=20
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
"""
        path = os.path.join(t, "pushpin.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.backend = spawn([sys.executable, os.path.join(HERE, "peers", "pushpin", "grip_backend.py"),
                              str(backend)], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(t, "grip.log"), "w"))
        self.log = os.path.join(t, "pushpin.log")
        self.proc = spawn(["pushpin", "--config=" + path, "--port=127.0.0.1:%d" % self.http_port],
                          stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        wait_port(backend, 10, self.backend)
        wait_port(self.http_port, 20, self.proc)
        wait_port(self.pub_port, 20, self.proc)
        # condure listens before the proxy and zurl are ready: wait until a
        # stream really opens through the GRIP backend.
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=2) as c:
                    c.sendall(b"GET /v1/events?channel=probe HTTP/1.1\r\nHost: x\r\n\r\n")
                    if c.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pushpin: no stream opened through the GRIP backend within 30 s")
            time.sleep(0.2)

    def stop(self):
        super().stop()
        stop_process(getattr(self, "backend", None))

    def sub_path(self, channel):
        return "/v1/events?channel=" + channel

    def pub_args(self, channel, ingest=False):
        return ["--mode=http", "--format=pushpin", "--port=%d" % self.pub_port,
                "--path=/publish/", "--channel=" + channel,
                "--conns=%d" % (8 if ingest else self.pub_conns)]


class BetterSse(System):
    name = "better-sse"
    connect_rate = 3000
    note = "better-sse 0.16 + Express 5 on Node %s, one process" % (
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("node") else "?")

    def available(self):
        if not shutil.which("node"):
            return False, "node is not installed"
        if not os.path.isdir(os.path.join(HERE, "peers", "better-sse", "node_modules", "better-sse")):
            return False, "npm ci has not been run in tests/bench/peers/better-sse"
        return True, ""

    def start(self):
        self.tmp = self.ctx.tmpdir("better-sse")
        self.log = os.path.join(self.tmp, "node.log")
        env = dict(os.environ, PORT="0", HOST="127.0.0.1", NODE_ENV="production")
        self.proc = spawn(["node", os.path.join(HERE, "peers", "better-sse", "server.js")],
                          env=env, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.http_port = wait_log_json(self.log, '"listening"', 20, self.proc)["http_port"]

    def sub_path(self, channel):
        return "/v1/events?channel=" + channel

    def pub_args(self, channel, ingest=False):
        return ["--mode=http", "--format=better-sse", "--port=%d" % self.http_port,
                "--path=/publish", "--channel=" + channel,
                "--conns=%d" % (8 if ingest else self.pub_conns)]
