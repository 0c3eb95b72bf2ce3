{{/*
The Secrets the pod mounts, and the flags that point the bridge at their
files. Each source is either an existing Secret or one this chart creates
(secret.yaml) from values; either way it is mounted read-only under
/etc/ssebridge/<dir>/. Returns JSON: {"mounts": [{name, secret, dir}],
"flags": {flag: path}}.
*/}}
{{- define "ssebridge.secretSources" -}}
{{- $s := .Values.secrets -}}
{{- $full := include "ssebridge.fullname" . -}}
{{- $mounts := list -}}
{{- $flags := dict -}}

{{- if or $s.jwt.existingSecret $s.jwt.files -}}
{{- $mounts = append $mounts (dict "name" "jwt" "secret" (default (printf "%s-jwt" $full) $s.jwt.existingSecret) "dir" "/etc/ssebridge/jwt") -}}
{{- if $s.jwt.keysFile -}}
{{- $_ := set $flags "jwt_keys_file" (printf "/etc/ssebridge/jwt/%s" $s.jwt.keysFile) -}}
{{- end -}}
{{- if $s.jwt.secretFile -}}
{{- $_ := set $flags "jwt_secret_file" (printf "/etc/ssebridge/jwt/%s" $s.jwt.secretFile) -}}
{{- end -}}
{{- end -}}

{{- if or $s.publisherKeys.existingSecret $s.publisherKeys.content -}}
{{- $mounts = append $mounts (dict "name" "publisher-keys" "secret" (default (printf "%s-publisher-keys" $full) $s.publisherKeys.existingSecret) "dir" "/etc/ssebridge/publishers") -}}
{{- $_ := set $flags "publisher_keys_file" (printf "/etc/ssebridge/publishers/%s" $s.publisherKeys.key) -}}
{{- end -}}

{{- if or $s.adminKeys.existingSecret $s.adminKeys.content -}}
{{- $mounts = append $mounts (dict "name" "admin-keys" "secret" (default (printf "%s-admin-keys" $full) $s.adminKeys.existingSecret) "dir" "/etc/ssebridge/admins") -}}
{{- $_ := set $flags "admin_keys_file" (printf "/etc/ssebridge/admins/%s" $s.adminKeys.key) -}}
{{- end -}}

{{- if or $s.grpcTls.existingSecret $s.grpcTls.cert $s.grpcTls.key -}}
{{- $mounts = append $mounts (dict "name" "grpc-tls" "secret" (default (printf "%s-grpc-tls" $full) $s.grpcTls.existingSecret) "dir" "/etc/ssebridge/grpc-tls") -}}
{{- $_ := set $flags "grpc_tls_cert_file" "/etc/ssebridge/grpc-tls/tls.crt" -}}
{{- $_ := set $flags "grpc_tls_key_file" "/etc/ssebridge/grpc-tls/tls.key" -}}
{{- if or $s.grpcTls.clientCa $s.grpcTls.requireClientCert -}}
{{- $_ := set $flags "grpc_tls_client_ca_file" "/etc/ssebridge/grpc-tls/ca.crt" -}}
{{- end -}}
{{- end -}}

{{- if or $s.redisPassword.existingSecret $s.redisPassword.password -}}
{{- $mounts = append $mounts (dict "name" "redis-password" "secret" (default (printf "%s-redis-password" $full) $s.redisPassword.existingSecret) "dir" "/etc/ssebridge/redis") -}}
{{- $_ := set $flags "redis_password_file" (printf "/etc/ssebridge/redis/%s" $s.redisPassword.key) -}}
{{- end -}}

{{- $rt := $s.redisTls -}}
{{- if or $rt.existingSecret $rt.ca $rt.cert -}}
{{- $mounts = append $mounts (dict "name" "redis-tls" "secret" (default (printf "%s-redis-tls" $full) $rt.existingSecret) "dir" "/etc/ssebridge/redis-tls") -}}
{{- if or $rt.existingSecret $rt.ca -}}
{{- $_ := set $flags "redis_tls_ca_file" "/etc/ssebridge/redis-tls/ca.crt" -}}
{{- end -}}
{{- if or $rt.cert $rt.clientCert -}}
{{- $_ := set $flags "redis_tls_cert_file" "/etc/ssebridge/redis-tls/tls.crt" -}}
{{- $_ := set $flags "redis_tls_key_file" "/etc/ssebridge/redis-tls/tls.key" -}}
{{- end -}}
{{- end -}}

{{- toJson (dict "mounts" $mounts "flags" $flags) -}}
{{- end -}}
