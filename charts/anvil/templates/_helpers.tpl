{{/* Names */}}
{{- define "anvil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "anvil.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "anvil.operator.fullname" -}}{{ include "anvil.fullname" . }}-operator{{- end -}}
{{- define "anvil.bootServer.fullname" -}}{{ include "anvil.fullname" . }}-boot-server{{- end -}}

{{- define "anvil.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "anvil.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "anvil.bootServer.serviceAccountName" -}}
{{- if .Values.bootServer.serviceAccount.create -}}
{{- default (include "anvil.bootServer.fullname" .) .Values.bootServer.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.bootServer.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels */}}
{{- define "anvil.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "anvil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "anvil.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: anvil
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "anvil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anvil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "anvil.operator.selectorLabels" -}}
{{ include "anvil.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "anvil.bootServer.selectorLabels" -}}
{{ include "anvil.selectorLabels" . }}
app.kubernetes.io/component: boot-server
{{- end -}}

{{/* Image */}}
{{- define "anvil.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "anvil.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "anvil.imageTag" .) -}}
{{- end -}}

{{/* Database */}}
{{- define "anvil.database.external" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "anvil.database.secretName" -}}
{{- default (printf "%s-database" (include "anvil.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "anvil.database.secretKey" -}}
{{- if .Values.database.existingSecret -}}{{ .Values.database.existingSecretKey }}{{- else -}}url{{- end -}}
{{- end -}}

{{- define "anvil.database.env" -}}
{{- if include "anvil.database.external" . -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "anvil.database.secretName" . }}
      key: {{ include "anvil.database.secretKey" . }}
{{- end }}
{{- end -}}

{{/* Boot-server ports: TFTP binds 69 on the host with hostNetwork, an unprivileged port behind the Service otherwise. */}}
{{- define "anvil.bootServer.tftpPort" -}}
{{- if hasKey .Values.bootServer.tftp "port" -}}
{{- .Values.bootServer.tftp.port -}}
{{- else if .Values.bootServer.hostNetwork -}}
69
{{- else -}}
6969
{{- end -}}
{{- end -}}

{{/* "true" when the boot-server binds a port below 1024 and so needs NET_BIND_SERVICE. */}}
{{- define "anvil.bootServer.privilegedPort" -}}
{{- $b := .Values.bootServer -}}
{{- if or (lt (int $b.http.port) 1024) (and $b.tftp.enabled (lt (int (include "anvil.bootServer.tftpPort" .)) 1024)) (and .Values.certManager.enabled (lt (int $b.https.port) 1024)) -}}
true
{{- end -}}
{{- end -}}

{{- define "anvil.bootServer.publicURL" -}}
{{- if .Values.bootServer.publicURL -}}
{{- .Values.bootServer.publicURL | trimSuffix "/" -}}
{{- else -}}
{{- printf "http://%s.%s.svc:%d" (include "anvil.bootServer.fullname" .) .Release.Namespace (int .Values.bootServer.service.httpPort) -}}
{{- end -}}
{{- end -}}

{{/* Namespaces whose objects anvil handles: the list, or [""] (cluster-wide). */}}
{{- define "anvil.clusterWide" -}}
{{- if not .Values.watchNamespaces -}}true{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget: policy/v1 from Kubernetes 1.21, policy/v1beta1 before. */}}
{{- define "anvil.pdb.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "policy/v1") (semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end -}}

{{/* Container securityContext shared by every container: nothing writable but volumes, no capabilities. */}}
{{- define "anvil.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "anvil.podSecurityContext" -}}
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Who may scrape metrics and call the operator API: the release namespace and the allowed namespaces. */}}
{{- define "anvil.networkPolicy.allowedPeers" -}}
# Pods in the release namespace.
- podSelector: {}
{{- range .Values.networkPolicy.allowedNamespaces }}
# The label is set automatically from Kubernetes 1.21; on older clusters label the namespace yourself.
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ . }}
{{- end }}
{{- range .Values.networkPolicy.allowedNamespaceSelectors }}
- namespaceSelector:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end }}
