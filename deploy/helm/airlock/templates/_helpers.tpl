{{/* The name of every object: nameOverride, else the release name. */}}
{{- define "airlock.fullname" -}}
{{- default .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "airlock.serviceAccountName" -}}
{{- default (include "airlock.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "airlock.selectorLabels" -}}
app.kubernetes.io/name: airlock
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "airlock.labels" -}}
{{ include "airlock.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The configuration file: values.config plus the paths and listeners the chart owns. */}}
{{- define "airlock.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "data" "/var/lib/airlock" -}}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%v" .Values.ports.gateway) -}}
{{- $admin := default (dict) (get $cfg "admin") -}}
{{- $_ := set $admin "listen" (printf "0.0.0.0:%v" .Values.ports.admin) -}}
{{- $_ := set $cfg "admin" $admin -}}
{{- if .Values.tls.secretName -}}
{{- $_ := set $cfg "tls" (dict "cert" "/etc/airlock/tls/tls.crt" "key" "/etc/airlock/tls/tls.key" "ca" "/etc/airlock/tls/ca.crt") -}}
{{- end -}}
{{- if .Values.policy -}}
{{- $_ := set $cfg "policy" "/etc/airlock/policy/policy.yaml" -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
