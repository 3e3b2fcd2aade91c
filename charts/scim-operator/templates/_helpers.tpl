{{/* The chart name, or nameOverride. */}}
{{- define "scim-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of the release's objects: fullnameOverride, else the release name with the
chart name added unless it already holds it. */}}
{{- define "scim-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "scim-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scim-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "scim-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "scim-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "scim-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scim-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* An image reference from repository, tag and digest: the digest wins when set. */}}
{{- define "scim-operator.imageRef" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository .tag }}
{{- end }}
{{- end }}

{{- define "scim-operator.image" -}}
{{- include "scim-operator.imageRef" (dict "repository" .Values.image.repository "tag" (default .Chart.AppVersion .Values.image.tag) "digest" .Values.image.digest) }}
{{- end }}

{{/* The SCIM server's default image: scimServer.image, each part falling back to the
operator's image (which holds the scim-server binary too). */}}
{{- define "scim-operator.scimServerImage" -}}
{{- $s := .Values.scimServer.image }}
{{- if $s.repository }}
{{- include "scim-operator.imageRef" (dict "repository" $s.repository "tag" (default .Chart.AppVersion $s.tag) "digest" $s.digest) }}
{{- else }}
{{- include "scim-operator.imageRef" (dict "repository" .Values.image.repository "tag" (default (default .Chart.AppVersion .Values.image.tag) $s.tag) "digest" (default .Values.image.digest $s.digest)) }}
{{- end }}
{{- end }}

{{/* The rules of the manager's role, read from files/manager-role.yaml: a copy of
config/rbac/role.yaml, which controller-gen writes from the kubebuilder RBAC markers
(make chart-sync copies it; make chart-check fails when the copy is stale). */}}
{{- define "scim-operator.managerRules" -}}
{{- $role := .Files.Get "files/manager-role.yaml" | fromYaml }}
{{- if or (not $role) (ne (get $role "kind") "ClusterRole") }}
{{- fail "files/manager-role.yaml must hold the ClusterRole controller-gen generates (run make chart-sync)" }}
{{- end }}
{{- toYaml (get $role "rules") }}
{{- end }}
