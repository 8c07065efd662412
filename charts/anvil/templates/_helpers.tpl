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
{{- if or (lt (int $b.http.port) 1024) (and $b.tftp.enabled (lt (int (include "anvil.bootServer.tftpPort" .)) 1024)) (and .Values.certManager.enabled (lt (int $b.https.port) 1024)) $b.proxyDhcp.enabled -}}
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
{{/* Where --discovery=create makes its hosts: bootServer.discovery.namespace, the first watched namespace, or the
release namespace. */}}
{{- define "anvil.discoveryNamespace" -}}
{{- .Values.bootServer.discovery.namespace | default (first .Values.watchNamespaces) | default .Release.Namespace -}}
{{- end -}}

{{- define "anvil.clusterWide" -}}
{{- if not .Values.watchNamespaces -}}true{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget: policy/v1 where the cluster serves it (1.21+), policy/v1beta1 where only that is served (1.20;
gone in 1.25). Without discovery (helm template) the Kubernetes version decides: --kube-version, or --api-versions
policy/v1/PodDisruptionBudget as Argo CD passes it. */}}
{{- define "anvil.pdb.apiVersion" -}}
{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" -}}
policy/v1
{{- else if .Capabilities.APIVersions.Has "policy/v1beta1/PodDisruptionBudget" -}}
policy/v1beta1
{{- else if semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end -}}

{{/* The one user every anvil process runs as, in every mode, so a volume written in one mode is usable in another. */}}
{{- define "anvil.uid" -}}10001{{- end -}}

{{/* Container securityContext shared by every container: nothing writable but volumes, no capabilities. */}}
{{- define "anvil.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ include "anvil.uid" . }}
runAsGroup: {{ include "anvil.uid" . }}
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The boot-server's: the shared one, or, when it binds a port below 1024, the same user with CAP_NET_BIND_SERVICE
as the only capability in its bounding set, gained through the image's setpriv (file capability
cap_net_bind_service=p), which needs allowPrivilegeEscalation (no_new_privs would ignore file capabilities).
Kubernetes puts added capabilities in the effective set of root processes only, hence setpriv. */}}
{{- define "anvil.bootServer.securityContext" -}}
{{- if include "anvil.bootServer.privilegedPort" . -}}
allowPrivilegeEscalation: true
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ include "anvil.uid" . }}
runAsGroup: {{ include "anvil.uid" . }}
capabilities:
  drop: [ALL]
  add: [NET_BIND_SERVICE]
seccompProfile:
  type: RuntimeDefault
{{- else -}}
{{ include "anvil.containerSecurityContext" . }}
{{- end -}}
{{- end -}}

{{/* The boot-server's command; setpriv raises CAP_NET_BIND_SERVICE into the ambient set, so node keeps it. */}}
{{- define "anvil.bootServer.command" -}}
{{- if include "anvil.bootServer.privilegedPort" . -}}
[setpriv, --inh-caps=+net_bind_service, --ambient-caps=+net_bind_service, --, node, boot-server/dist/main.js]
{{- else -}}
[node, boot-server/dist/main.js]
{{- end -}}
{{- end -}}

{{/* fsGroup makes volumes that support it (PVCs of most storage classes, emptyDir) writable by the group; the
boot-server's fix-ownership init container covers those that do not (hostPath, local volumes). */}}
{{- define "anvil.podSecurityContext" -}}
fsGroup: {{ include "anvil.uid" . }}
fsGroupChangePolicy: OnRootMismatch
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
