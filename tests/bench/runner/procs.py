"""Processes: start, find, stop by PID; free ports; readiness waits; CPU,
RSS, threads and open files from /proc. Every process the runner starts
goes through spawn() so that stop_all() reaches it on exit or a signal."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # tests/bench
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
CORES = os.cpu_count() or 1
PER_WORKER = 5000          # streams per generator process (cap: 20,000 files)
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[bench %6.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


# ---------------------------------------------------------------- processes

STARTED = []   # every Popen we started, so cleanup can reach it


def spawn(cmd, **kw):
    kw.setdefault("start_new_session", True)
    p = subprocess.Popen(cmd, **kw)
    STARTED.append(p)
    return p


def descendants(pid):
    """pid and every process below it (from /proc/*/stat parent links)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def stop_process(p, grace=5.0):
    """SIGTERM the process; then SIGKILL it, its descendants and its group."""
    if p is None:
        return
    tree = descendants(p.pid) if p.poll() is None else []
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=grace)
        except (subprocess.TimeoutExpired, OSError):
            pass
    for pid in tree[1:]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if p.poll() is None:
        try:
            p.kill()
        except OSError:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)   # the session we started it in
    except OSError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def stop_all():
    for p in reversed(STARTED):
        stop_process(p, grace=2.0)
    STARTED.clear()


def on_signal(signum, _frame):
    log("signal %d: stopping everything" % signum)
    stop_all()
    sys.exit(128 + signum)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_log_json(path, key, timeout, proc):
    """Waits for a JSON line with `key` in a log file; returns the object."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited (%s) before it was ready; see %s" % (proc.args[0], proc.returncode, path))
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("{") and key in line:
                        try:
                            return json.loads(line)
                        except ValueError:
                            pass
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("not ready within %ss: %s" % (timeout, path))


def wait_port(port, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited (%s) before listening" % (proc.args[0], proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not listening within %ss" % (port, timeout))


# ---------------------------------------------------------------- /proc stats

def proc_stats(pids):
    """CPU seconds (utime+stime), RSS bytes, threads and open files, summed."""
    cpu = rss = threads = fds = 0
    alive = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            cpu += int(fields[11]) + int(fields[12])      # utime, stime
            threads += int(fields[17])
            rss += int(fields[21]) * PAGE
            fds += len(os.listdir("/proc/%d/fd" % pid))
            alive += 1
        except (OSError, ValueError, IndexError):
            continue
    return {"cpu_s": cpu / CLK_TCK, "rss_bytes": rss, "threads": threads,
            "open_files": fds, "processes": alive, "t": time.monotonic()}
