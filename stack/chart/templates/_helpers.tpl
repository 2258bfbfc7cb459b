{{/*
Names and labels, in one place so that every object of the chart agrees on them.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "shop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object name: fullnameOverride, else the release name. The platform contract names
objects R-shop, R-redis-master, ... for release R, and the lab and the investigator rely on it.
*/}}
{{- define "shop.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A component's object name: fullname-suffix, e.g. (dict "ctx" . "suffix" "redis-master"). */}}
{{- define "shop.componentName" -}}
{{- printf "%s-%s" (include "shop.fullname" .ctx) .suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" . "component" "redis"). Immutable once deployed. */}}
{{- define "shop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shop.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects: selector labels plus chart and manager. */}}
{{- define "shop.labels" -}}
{{ include "shop.selectorLabels" . }}
helm.sh/chart: {{ include "shop.chart" .ctx }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: hindsight
{{- if .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{- end }}
{{- end -}}

{{/* The Secret holding session-secret, redis-password and postgres-password. */}}
{{- define "shop.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- include "shop.componentName" (dict "ctx" . "suffix" "shop") -}}
{{- end -}}
{{- end -}}

{{/*
A secret value: the value given, else the one already in the release's Secret (lookup answers only
against a cluster, so upgrades keep it), else a random one. (dict "ctx" . "key" "session-secret" "value" X)
*/}}
{{- define "shop.secretValue" -}}
{{- if .value -}}
{{- .value -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace (include "shop.secretName" .ctx) -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "shop.shopImage" -}}
{{- printf "%s:%s" .Values.shop.image.repository (default .Chart.AppVersion .Values.shop.image.tag) -}}
{{- end -}}

{{/* Address of the Redis master Service, as the replicas and the shop reach it. */}}
{{- define "shop.redisMasterHost" -}}
{{- include "shop.componentName" (dict "ctx" . "suffix" "redis-master") -}}
{{- end -}}

{{/*
Environment of a Redis container: the password from the Secret, for the --requirepass/--masterauth
arguments ($(REDIS_PASSWORD) is expanded by the kubelet) and for redis-cli in the probes (REDISCLI_AUTH).
*/}}
{{- define "shop.redisEnv" -}}
{{- if .Values.redis.auth.password -}}
env:
  - name: REDIS_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ include "shop.secretName" . }}
        key: redis-password
  - name: REDISCLI_AUTH
    valueFrom:
      secretKeyRef:
        name: {{ include "shop.secretName" . }}
        key: redis-password
{{- else -}}
env: []
{{- end -}}
{{- end -}}
