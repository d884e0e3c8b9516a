{{/*
Names, labels and the checks that values.schema.json cannot express.
*/}}

{{- define "imap-connector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: at most 63 characters. */}}
{{- define "imap-connector.fullname" -}}
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

{{- define "imap-connector.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "imap-connector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "imap-connector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imap-connector.labels" -}}
helm.sh/chart: {{ include "imap-connector.chart" . }}
{{ include "imap-connector.selectorLabels" . }}
app.kubernetes.io/version: {{ (default .Chart.AppVersion .Values.image.tag) | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "imap-connector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "imap-connector.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret whose keys are connection names and values passwords. */}}
{{- define "imap-connector.passwordSecretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-passwords" (include "imap-connector.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "imap-connector.tokenSecretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-token" (include "imap-connector.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "imap-connector.tokenSecretKey" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecretKey -}}
{{- else -}}
token
{{- end -}}
{{- end -}}

{{- define "imap-connector.dataClaimName" -}}
{{- default (printf "%s-data" (include "imap-connector.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* "true" when more than one pod may run (replicaCount or autoscaling). */}}
{{- define "imap-connector.severalReplicas" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) -}}true{{- end -}}
{{- end -}}

{{/*
"true" when every pod sees the same data directory: one pod, or one shared
claim. Otherwise the server runs with --replicas_share_data_dir=false.
*/}}
{{- define "imap-connector.replicasShareDataDir" -}}
{{- if or (not (include "imap-connector.severalReplicas" .)) (and .Values.persistence.enabled .Values.persistence.shared) -}}true{{- end -}}
{{- end -}}

{{- define "imap-connector.clientCaSecretName" -}}
{{- default .Values.tls.secretName .Values.tls.clientCa.secretName -}}
{{- end -}}

{{/* Seconds the server gets to drain: 10 less than the pod's grace period. */}}
{{- define "imap-connector.shutdownGraceSeconds" -}}
{{- sub (int .Values.terminationGracePeriodSeconds) 10 -}}
{{- end -}}

{{/*
Checks across values. Renders nothing; fails the release with a message
naming the values to change.
*/}}
{{- define "imap-connector.validate" -}}
{{- $v := .Values -}}
{{- if and $v.tls.enabled (not $v.tls.secretName) -}}
{{- fail "tls.enabled needs tls.secretName: a Secret of type kubernetes.io/tls" -}}
{{- end -}}
{{- if and $v.tls.clientCa.enabled (not $v.tls.enabled) -}}
{{- fail "tls.clientCa.enabled (mTLS) needs tls.enabled" -}}
{{- end -}}
{{- if $v.auth.enabled -}}
{{- if and $v.auth.token $v.auth.existingSecret -}}
{{- fail "auth: set either auth.token or auth.existingSecret, not both" -}}
{{- end -}}
{{- if not (or $v.auth.token $v.auth.existingSecret) -}}
{{- fail "auth.enabled needs auth.token or auth.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- if and $v.existingSecret $v.connectionPasswords -}}
{{- fail "set either existingSecret or connectionPasswords, not both" -}}
{{- end -}}
{{- $names := dict -}}
{{- range $v.connections -}}
{{- if hasKey $names .name -}}
{{- fail (printf "connections: the name %q appears twice" .name) -}}
{{- end -}}
{{- $_ := set $names .name true -}}
{{- if and (not $v.existingSecret) (not (hasKey $v.connectionPasswords .name)) -}}
{{- fail (printf "connections: %q has no password: add connectionPasswords.%s or use existingSecret" .name .name) -}}
{{- end -}}
{{- end -}}
{{- range $name, $_ := $v.connectionPasswords -}}
{{- if not (hasKey $names $name) -}}
{{- fail (printf "connectionPasswords: %q is not the name of any entry of connections" $name) -}}
{{- end -}}
{{- end -}}
{{- if and $v.service.headless (ne $v.service.type "ClusterIP") -}}
{{- fail "service.headless needs service.type ClusterIP" -}}
{{- end -}}
{{- $several := include "imap-connector.severalReplicas" . -}}
{{- if and $v.persistence.shared (not $v.persistence.enabled) -}}
{{- fail "persistence.shared needs persistence.enabled: the replicas share the data directory through one PersistentVolumeClaim (ReadWriteMany)" -}}
{{- end -}}
{{- if and $v.persistence.shared (not $v.persistence.existingClaim) (not (has "ReadWriteMany" $v.persistence.accessModes)) -}}
{{- fail "persistence.shared needs persistence.accessModes [ReadWriteMany] (NFS, EFS, Azure Files, CephFS): every replica mounts the one claim" -}}
{{- end -}}
{{- if and $several $v.persistence.enabled (not $v.persistence.shared) -}}
{{- fail "persistence.enabled with several replicas (replicaCount > 1 or autoscaling) needs persistence.shared: true and a ReadWriteMany claim: a ReadWriteOnce volume cannot be mounted by every replica" -}}
{{- end -}}
{{- if $v.podDisruptionBudget.enabled -}}
{{- $min := $v.podDisruptionBudget.minAvailable -}}
{{- $max := $v.podDisruptionBudget.maxUnavailable -}}
{{- if eq (kindIs "invalid" $min) (kindIs "invalid" $max) -}}
{{- fail "podDisruptionBudget: set exactly one of minAvailable and maxUnavailable (the other null)" -}}
{{- end -}}
{{- end -}}
{{- if $v.autoscaling.enabled -}}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) -}}
{{- fail "autoscaling: minReplicas is above maxReplicas" -}}
{{- end -}}
{{- if and (kindIs "invalid" $v.autoscaling.targetCPUUtilizationPercentage) (kindIs "invalid" $v.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail "autoscaling: set targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- end -}}
{{- if and $several (not $v.persistence.enabled) (not $v.cursorKeys.existingSecret) -}}
{{- fail "several replicas (replicaCount > 1 or autoscaling) without a shared data volume need cursorKeys.existingSecret: otherwise each pod makes its own cursor key and refuses the cursors of the others. Or share the data directory: persistence.enabled and persistence.shared with a ReadWriteMany claim (see \"Scaling out\" in the chart's README.md)" -}}
{{- end -}}
{{- end -}}
