{{/*
Values that render fine but would deploy a broken or unsafe bridge. Each
refusal says what to set instead. values.schema.json has already checked
types and unknown keys; these are the rules that span several values.
*/}}
{{- define "ssebridge.validate" -}}
{{- $c := .Values.config -}}
{{- $redis := include "ssebridge.usesRedis" . -}}

{{- if and (not $redis) (or (gt (int64 .Values.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail (printf "%s with the memory broker: each pod would keep its own history and subscribers, so a publish reaches only the streams of the pod that took it. Set the Redis broker: config.broker=redis and config.redis_url=redis://<host>:6379/0 (--broker=redis --redis_url=...), or keep replicaCount: 1 with autoscaling.enabled: false." (ternary "autoscaling.enabled" (printf "replicaCount: %d" (int64 .Values.replicaCount)) .Values.autoscaling.enabled)) -}}
{{- end -}}
{{- if and $redis (not $c.redis_url) (not $c.redis_sentinels) -}}
{{- fail "config.broker=redis needs config.redis_url (redis://[[user]:password@]host:port/db) or config.redis_sentinels (host:port,...): the bridge's default, 127.0.0.1:6379, is the pod itself. Put the password in secrets.redisPassword, not in the URL." -}}
{{- end -}}
{{- if and $c.redis_sentinels $c.redis_url (ne (urlParse (toString $c.redis_url)).host "127.0.0.1:6379") -}}
{{- fail "config.redis_sentinels and config.redis_url both say where Redis is (--redis_sentinels, --redis_url): with sentinels leave redis_url out (or keep its host at 127.0.0.1:6379 and use it only for the database number)." -}}
{{- end -}}

{{- if eq (include "ssebridge.httpPort" .) (include "ssebridge.grpcPort" .) -}}
{{- fail "config.http_port and config.grpc_port must differ" -}}
{{- end -}}
{{- $admin := include "ssebridge.adminPort" . -}}
{{- if or (eq $admin (include "ssebridge.httpPort" .)) (eq $admin (include "ssebridge.grpcPort" .)) -}}
{{- fail (printf "config.admin_port (%s) must differ from config.http_port and config.grpc_port: the admin listener (/metrics, /ui) is the internal one, never the public port" $admin) -}}
{{- end -}}

{{- if and (eq .Values.probes.readiness.type "grpc") (include "ssebridge.grpcTlsEnabled" .) -}}
{{- fail "probes.readiness.type=grpc with gRPC TLS on: the kubelet's gRPC probe cannot speak TLS. Use probes.readiness.type=http (GET /readyz, which also sees Redis and draining)." -}}
{{- end -}}

{{- if .Values.autoscaling.enabled -}}
{{- if gt (int64 .Values.autoscaling.minReplicas) (int64 .Values.autoscaling.maxReplicas) -}}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- $a := .Values.autoscaling -}}
{{- if not (or $a.targetCPUUtilizationPercentage $a.targetMemoryUtilizationPercentage $a.streams.enabled) -}}
{{- fail "autoscaling.enabled needs a target: autoscaling.targetCPUUtilizationPercentage, autoscaling.targetMemoryUtilizationPercentage or autoscaling.streams.enabled" -}}
{{- end -}}
{{- end -}}

{{- if .Values.ingress.enabled -}}
{{- if not .Values.ingress.hosts -}}
{{- fail "ingress.enabled needs ingress.hosts (at least one host): an Ingress without a host would route the streams of every hostname the controller serves" -}}
{{- end -}}
{{- if not .Values.ingress.paths -}}
{{- fail "ingress.enabled needs ingress.paths (at least /v1/events)" -}}
{{- end -}}
{{- end -}}
{{- if .Values.httpRoute.enabled -}}
{{- if not .Values.httpRoute.parentRefs -}}
{{- fail "httpRoute.enabled needs httpRoute.parentRefs (the Gateway to attach to)" -}}
{{- end -}}
{{- end -}}

{{- $pdb := .Values.podDisruptionBudget -}}
{{- if $pdb.enabled -}}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) -}}
{{- fail "podDisruptionBudget: give minAvailable or maxUnavailable, not both (set the other to null)" -}}
{{- end -}}
{{- if and (kindIs "invalid" $pdb.minAvailable) (kindIs "invalid" $pdb.maxUnavailable) -}}
{{- fail "podDisruptionBudget.enabled needs minAvailable or maxUnavailable" -}}
{{- end -}}
{{- end -}}

{{- $sources := include "ssebridge.secretSources" . | fromJson -}}
{{- range $flag, $path := $sources.flags -}}
{{- if hasKey $c $flag -}}
{{- if not (kindIs "invalid" (index $c $flag)) -}}
{{- fail (printf "config.%s is set by secrets (to %s): keep one of the two" $flag $path) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (or (and $.Values.ingress.enabled $.Values.ingress.publishPath) (and $.Values.httpRoute.enabled $.Values.httpRoute.publishPath)) (not (or (hasKey $sources.flags "publisher_keys_file") (hasKey $sources.flags "jwt_keys_file") (hasKey $sources.flags "jwt_secret_file") $c.publisher_keys_file $c.jwt_keys_file $c.jwt_secret_file)) -}}
{{- fail "publishPath routes POST /v1/publish from outside the cluster, but no publisher credential is configured (the bridge would accept anyone's publish): set secrets.publisherKeys or secrets.jwt" -}}
{{- end -}}

{{- $jwt := .Values.secrets.jwt -}}
{{- if or $jwt.existingSecret $jwt.files -}}
{{- if and $jwt.existingSecret $jwt.files -}}
{{- fail "secrets.jwt: give existingSecret or files, not both" -}}
{{- end -}}
{{- if not (or $jwt.keysFile $jwt.secretFile) -}}
{{- fail "secrets.jwt: name the file to use with keysFile (--jwt_keys_file) or secretFile (--jwt_secret_file)" -}}
{{- end -}}
{{- range $f := list $jwt.keysFile $jwt.secretFile -}}
{{- if and $f $jwt.files (not (hasKey $jwt.files $f)) -}}
{{- fail (printf "secrets.jwt: %q is not one of secrets.jwt.files" $f) -}}
{{- end -}}
{{- end -}}
{{- else if or $jwt.keysFile $jwt.secretFile -}}
{{- fail "secrets.jwt.keysFile/secretFile need secrets.jwt.existingSecret or secrets.jwt.files" -}}
{{- end -}}

{{- range $name := list "publisherKeys" "adminKeys" -}}
{{- $k := index $.Values.secrets $name -}}
{{- if and $k.existingSecret $k.content -}}
{{- fail (printf "secrets.%s: give existingSecret or content, not both" $name) -}}
{{- end -}}
{{- end -}}

{{- $tls := .Values.secrets.grpcTls -}}
{{- if $tls.existingSecret -}}
{{- if or $tls.cert $tls.key $tls.clientCa -}}
{{- fail "secrets.grpcTls: give existingSecret (tls.crt, tls.key, ca.crt) or cert/key/clientCa, not both; with existingSecret, requireClientCert uses its ca.crt" -}}
{{- end -}}
{{- else if or $tls.cert $tls.key -}}
{{- if not (and $tls.cert $tls.key) -}}
{{- fail "secrets.grpcTls: cert and key go together" -}}
{{- end -}}
{{- if and $tls.requireClientCert (not $tls.clientCa) -}}
{{- fail "secrets.grpcTls.requireClientCert needs secrets.grpcTls.clientCa" -}}
{{- end -}}
{{- else if or $tls.clientCa $tls.requireClientCert -}}
{{- fail "secrets.grpcTls: mTLS needs the server's cert and key too (existingSecret, or cert and key)" -}}
{{- end -}}

{{- $rp := .Values.secrets.redisPassword -}}
{{- if and $rp.existingSecret $rp.password -}}
{{- fail "secrets.redisPassword: give existingSecret or password, not both" -}}
{{- end -}}

{{- $rt := .Values.secrets.redisTls -}}
{{- if and $rt.existingSecret (or $rt.ca $rt.cert $rt.key) -}}
{{- fail "secrets.redisTls: give existingSecret or ca/cert/key, not both" -}}
{{- end -}}
{{- if ne (empty $rt.cert) (empty $rt.key) -}}
{{- fail "secrets.redisTls: cert and key go together" -}}
{{- end -}}
{{- if and (or $rt.existingSecret $rt.ca $rt.cert) (not (hasPrefix "rediss://" (toString (default "" .Values.config.redis_url)))) -}}
{{- fail "secrets.redisTls needs config.redis_url to be rediss:// (TLS)" -}}
{{- end -}}
{{- end -}}
