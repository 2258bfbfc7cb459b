{{/*
Metrics: the prometheus.io annotations of a pod and the exporter sidecars, in one place so that every
workload agrees on ports, names and security settings.
*/}}

{{/* prometheus.io/* annotations of a pod whose metrics are at `port`: (dict "ctx" . "port" 9121). */}}
{{- define "shop.scrapeAnnotations" -}}
{{- if .ctx.Values.metrics.annotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* What every exporter container shares: the container hardening and its port, named `metrics`. */}}
{{- define "shop.exporterCommon" -}}
ports:
  - name: metrics
    containerPort: {{ .port }}
    protocol: TCP
# The exporter answers /metrics even when what it watches is down (with *_up 0): liveness is the port.
livenessProbe:
  tcpSocket:
    port: metrics
  initialDelaySeconds: 10
  periodSeconds: 20
  timeoutSeconds: 2
  failureThreshold: 3
resources:
  {{- toYaml .resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* The redis_exporter sidecar of a Redis pod; it reads the Redis of its own pod. */}}
{{- define "shop.redisExporter" -}}
{{- $m := .Values.metrics.redis -}}
- name: metrics
  image: {{ printf "%s:%s" $m.image.repository $m.image.tag | quote }}
  imagePullPolicy: {{ $m.image.pullPolicy }}
  args:
    - --redis.addr=redis://127.0.0.1:6379
    - --web.listen-address=:9121
  {{- if .Values.redis.auth.password }}
  env:
    - name: REDIS_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "shop.secretName" . }}
          key: redis-password
  {{- end }}
  {{- include "shop.exporterCommon" (dict "port" 9121 "resources" $m.resources) | nindent 2 }}
{{- end -}}
