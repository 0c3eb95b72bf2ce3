// better-sse peer for the ssebridge benchmark (tests/bench/run starts it).
//
//   GET  /v1/events?channel=X   an SSE session registered with channel X
//   POST /publish               {"channel":"X","data":"...","event":"..."} -> broadcast
//   GET  /healthz               ok
//
// Configured like ssebridge for the comparison: a retry field on connect, a
// keep-alive comment every 15 s, the payload written as given (an identity
// serializer, as ssebridge writes `data` as given), loopback only.
// Listens on 127.0.0.1:$PORT and prints one JSON line {"msg":"listening",...}.
"use strict";

const express = require("express");
const { createSession, createChannel } = require("better-sse");

const port = Number(process.env.PORT || "0");
const host = process.env.HOST || "127.0.0.1";
const channels = new Map();

function channelFor(name) {
  let ch = channels.get(name);
  if (!ch) {
    ch = createChannel();
    channels.set(name, ch);
  }
  return ch;
}

const CHANNEL_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const identity = (data) => String(data);

const app = express();
app.disable("x-powered-by");
app.disable("etag");

app.get("/healthz", (_req, res) => res.type("text/plain").send("ok\n"));

app.get("/v1/events", async (req, res) => {
  const name = String(req.query.channel || "");
  if (!CHANNEL_RE.test(name)) {
    res.status(400).json({ error: "invalid_argument", message: "channel" });
    return;
  }
  try {
    const session = await createSession(req, res, {
      serializer: identity,
      retry: 3000,
      keepAlive: 15000,
      headers: { "X-Accel-Buffering": "no" },
    });
    channelFor(name).register(session);
  } catch (err) {
    if (!res.headersSent) res.status(500).end();
  }
});

app.post("/publish", express.json({ limit: "1mb" }), (req, res) => {
  const body = req.body || {};
  const name = body.channel;
  const data = body.data;
  if (typeof name !== "string" || !CHANNEL_RE.test(name)) {
    res.status(400).json({ error: "invalid_argument", message: "channel" });
    return;
  }
  if (typeof data !== "string" || data.length === 0) {
    res.status(400).json({ error: "invalid_argument", message: "data" });
    return;
  }
  const ch = channels.get(name);
  const subscribers = ch ? ch.sessionCount : 0;
  if (ch) ch.broadcast(data, typeof body.event === "string" && body.event ? body.event : "message");
  res.json({ subscribers });
});

const server = app.listen(port, host, () => {
  const addr = server.address();
  process.stderr.write(JSON.stringify({ msg: "listening", http_port: addr.port, pid: process.pid }) + "\n");
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.requestTimeout = 0; // SSE responses never finish
server.maxConnections = 50000;

function stop() {
  for (const ch of channels.values()) {
    for (const s of ch.activeSessions) ch.deregister(s);
  }
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
