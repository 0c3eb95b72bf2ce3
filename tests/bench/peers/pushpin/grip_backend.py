#!/usr/bin/env python3
"""The GRIP backend Pushpin needs for the benchmark (tests/bench/run starts it).

Every GET /v1/events?channel=X is answered with `Grip-Hold: stream` on
channel X: Pushpin keeps the client's response open and sends it whatever is
published to X. The initial body mirrors ssebridge's (a comment and a retry
field) and Pushpin sends a keep-alive comment every 15 s, as ssebridge does.

usage: grip_backend.py PORT   (listens on 127.0.0.1; standard library only)
"""
import http.server
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        channel = (query.get("channel") or [""])[0]
        if url.path != "/v1/events" or not channel:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = b": ok\n\nretry: 3000\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.send_header("Grip-Hold", "stream")
        self.send_header("Grip-Channel", channel)
        self.send_header("Grip-Keep-Alive", ": keepalive\\n\\n; format=cstring; timeout=15")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    sys.stderr.write('{"msg":"listening","http_port":%d}\n' % server.server_address[1])
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
