{{/*
The SSE annotations of each ingress controller: an SSE stream is one HTTP
response that lasts as long as the page is open, written a few bytes at a
time. A proxy must pass each write on at once (no response buffering, no
compression, which buffers until a block fills) and must not end the
response after its usual 30-60 s read timeout. The bridge's heartbeat
(config.heartbeat, 15 s) keeps idle timeouts from firing; the hour is the
longest a stream lasts before the browser reconnects and resumes with
Last-Event-ID.
*/}}
{{- define "ssebridge.ingressAnnotations" -}}
{{- $c := .Values.ingress.controller -}}
{{- if eq $c "nginx" -}}
# ingress-nginx: no per-Ingress gzip switch; it compresses only its
# gzip-types (text/event-stream is not among them) when use-gzip is on.
# The bridge's X-Accel-Buffering: no also turns buffering off per response.
nginx.ingress.kubernetes.io/proxy-buffering: "off"
nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
nginx.ingress.kubernetes.io/proxy-send-timeout: "3600"
nginx.ingress.kubernetes.io/proxy-http-version: "1.1"
{{- else if eq $c "traefik" -}}
# Traefik flushes text/event-stream responses at once, its compress
# middleware skips text/event-stream, and its entrypoints have no write
# timeout by default: nothing to set per Ingress (see the README).
{{- else if eq $c "haproxy" -}}
# HAProxy Technologies' controller: responses are not buffered; the server
# timeout (default 50 s) would cut a quiet stream.
haproxy.org/timeout-server: "3600s"
{{- else if eq $c "contour" -}}
# Contour/Envoy: the route's response timeout defaults to 15 s and covers
# the whole response, so every stream would end after 15 s.
projectcontour.io/response-timeout: "3600s"
{{- end -}}
{{- end -}}
