{{/*
Names, labels and the few numbers several templates derive from the values
(ports, replicas, durations). Refusals live in _validate.tpl, the container's
args in _args.tpl.
*/}}

{{- define "ssebridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ssebridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ssebridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ssebridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ssebridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ssebridge.labels" -}}
helm.sh/chart: {{ include "ssebridge.chart" . }}
{{ include "ssebridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The helm test pod's labels: not the bridge's selector labels, so no Service,
PDB, HPA, anti-affinity or NetworkPolicy of the release takes it for a
bridge pod.
*/}}
{{- define "ssebridge.helmTestLabels" -}}
app.kubernetes.io/name: {{ include "ssebridge.name" . }}-helm-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: helm-test
{{- end -}}

{{- define "ssebridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ssebridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ssebridge.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The pod's ports are the bridge's own flags, with the bridge's defaults. */}}
{{- define "ssebridge.httpPort" -}}
{{- $p := .Values.config.http_port | default 8080 -}}
{{- printf "%d" (int64 $p) -}}
{{- end -}}

{{- define "ssebridge.grpcPort" -}}
{{- $p := .Values.config.grpc_port | default 50051 -}}
{{- printf "%d" (int64 $p) -}}
{{- end -}}

{{/*
The internal listener (--admin_port; /metrics, /ui, the gRPC Admin service).
The chart always sets it, 9090 unless config.admin_port says otherwise, so
the pod's port, the admin Service and the ServiceMonitor agree with the flag.
*/}}
{{- define "ssebridge.adminPort" -}}
{{- $p := .Values.config.admin_port | default 9090 -}}
{{- printf "%d" (int64 $p) -}}
{{- end -}}

{{/* Where the admin Service, ServiceMonitor and PrometheusRule select the pods' metrics. */}}
{{- define "ssebridge.adminServiceName" -}}
{{- printf "%s-admin" (include "ssebridge.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The most replicas that may run at once outside a rollout. */}}
{{- define "ssebridge.maxReplicas" -}}
{{- if .Values.autoscaling.enabled -}}
{{- printf "%d" (int64 .Values.autoscaling.maxReplicas) -}}
{{- else -}}
{{- printf "%d" (int64 .Values.replicaCount) -}}
{{- end -}}
{{- end -}}

{{/* The fewest replicas that run: a PDB only makes sense above one. */}}
{{- define "ssebridge.minReplicas" -}}
{{- if .Values.autoscaling.enabled -}}
{{- printf "%d" (int64 .Values.autoscaling.minReplicas) -}}
{{- else -}}
{{- printf "%d" (int64 .Values.replicaCount) -}}
{{- end -}}
{{- end -}}

{{/*
An absl duration ("1h30m", "10s", "1.5s", "250ms") in whole seconds, rounded
up. Takes (list value "config.flag_name") so a bad value is refused by name.
*/}}
{{- define "ssebridge.durationSeconds" -}}
{{- $d := toString (index . 0) -}}
{{- $what := index . 1 -}}
{{- $part := "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|ms|s|m|h)" -}}
{{- if eq $d "0" -}}
0
{{- else -}}
{{- if not (regexMatch (printf "^(%s)+$" $part) $d) -}}
{{- fail (printf "%s: %q is not a finite duration (like 10s, 1m30s, 500ms); the pod's grace period is computed from it" $what $d) -}}
{{- end -}}
{{- $unit := dict "ns" 0.000000001 "us" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll $part $d -1 -}}
{{- $n := regexFind "^[0-9.]+" . | float64 -}}
{{- $total = addf $total (mulf $n (get $unit (regexReplaceAll "^[0-9.]+" . ""))) -}}
{{- end -}}
{{- printf "%d" (ceil $total | int64) -}}
{{- end -}}
{{- end -}}

{{/* config.shutdown_deadline (bridge default 10s) + preStop + margin. */}}
{{- define "ssebridge.terminationGracePeriodSeconds" -}}
{{- $deadline := include "ssebridge.durationSeconds" (list (.Values.config.shutdown_deadline | default "10s") "config.shutdown_deadline") | int64 -}}
{{- add (int64 .Values.shutdown.preStopSleepSeconds) $deadline (int64 .Values.shutdown.graceMarginSeconds) -}}
{{- end -}}

{{/*
Writer threads from the CPU limit: the bridge's own default (one per core)
counts the node's cores, not the container's share of them.
*/}}
{{- define "ssebridge.writerThreadsFromLimit" -}}
{{- $cpu := toString (dig "limits" "cpu" "" .Values.resources) -}}
{{- if $cpu -}}
{{- $cores := 0.0 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $cores = divf (trimSuffix "m" $cpu | float64) 1000.0 -}}
{{- else -}}
{{- $cores = float64 $cpu -}}
{{- end -}}
{{- printf "%d" (max 1 (ceil $cores | int64)) -}}
{{- end -}}
{{- end -}}

{{/* gRPC TLS is on when the chart mounts TLS material or config names it. */}}
{{- define "ssebridge.grpcTlsEnabled" -}}
{{- $t := .Values.secrets.grpcTls -}}
{{- if or $t.existingSecret $t.cert $t.key .Values.config.grpc_tls_cert_file -}}
true
{{- end -}}
{{- end -}}

{{- define "ssebridge.usesRedis" -}}
{{- if eq (toString (.Values.config.broker | default "memory")) "redis" -}}
true
{{- end -}}
{{- end -}}
