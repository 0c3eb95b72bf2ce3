{{/*
The container's args: every key of .Values.config as --key=value (sorted, so
a re-render of the same values is the same pod spec), plus the flags the
chart derives itself (files of mounted Secrets, writer threads from the CPU
limit, the admin listener's port and address), then extraArgs. A null value drops the flag (the bridge's default).
*/}}

{{- define "ssebridge.flagValue" -}}
{{- $v := . -}}
{{- if kindIs "float64" $v -}}
{{- if eq $v (floor $v) -}}
{{- printf "%d" (int64 $v) -}}
{{- else -}}
{{- $v -}}
{{- end -}}
{{- else if kindIs "bool" $v -}}
{{- ternary "true" "false" $v -}}
{{- else -}}
{{- toString $v -}}
{{- end -}}
{{- end -}}

{{- define "ssebridge.flags" -}}
{{- $flags := dict -}}
{{- range $k, $v := .Values.config -}}
{{- if not (kindIs "invalid" $v) -}}
{{- $_ := set $flags $k (include "ssebridge.flagValue" $v) -}}
{{- end -}}
{{- end -}}
{{- if not (hasKey $flags "writer_threads") -}}
{{- $threads := include "ssebridge.writerThreadsFromLimit" . -}}
{{- if $threads -}}
{{- $_ := set $flags "writer_threads" $threads -}}
{{- end -}}
{{- end -}}
{{- if not (hasKey $flags "admin_port") -}}
{{- $_ := set $flags "admin_port" (include "ssebridge.adminPort" .) -}}
{{- end -}}
{{- if not (hasKey $flags "admin_address") -}}
{{- /* The pod's address: the admin Service and Prometheus reach it there. */ -}}
{{- $_ := set $flags "admin_address" "0.0.0.0" -}}
{{- end -}}
{{- $sources := include "ssebridge.secretSources" . | fromJson -}}
{{- range $k, $v := $sources.flags -}}
{{- $_ := set $flags $k $v -}}
{{- end -}}
{{- toJson $flags -}}
{{- end -}}

{{- define "ssebridge.args" -}}
{{- $flags := include "ssebridge.flags" . | fromJson -}}
{{- range $k := keys $flags | sortAlpha }}
- {{ printf "--%s=%s" $k (index $flags $k) | quote }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
