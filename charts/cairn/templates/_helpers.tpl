{{/*
Helpers of the cairn chart.

As in the adapter chart, every map that ends up in a manifest (labels,
selectors) is built as a dict and written by "cairn.map": keys sorted,
values quoted, so YAML never reads a value as a number or a boolean.
Nothing reads the clock or random numbers: the same values render the same
bytes.
*/}}

{{/*
fullname: the name of the namespaced objects. A release named "cairn" (or
"cairn-something") keeps its name; any other gets "-cairn" appended.
Kubernetes names are limited to 63 characters.
*/}}
{{- define "cairn.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
clusterName: the name of cluster-scoped objects (ClusterRoles and their
bindings). It carries the release namespace, so that two releases of the
same name in two namespaces do not fight over one ClusterRole.
*/}}
{{- define "cairn.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "cairn.fullname" .) | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{/*
serviceAccountName: the ServiceAccount the pods run as and RBAC binds.
*/}}
{{- define "cairn.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "cairn.fullname" .) -}}
{{- end -}}

{{/*
leaseName: the Lease of leader election, one per release.
*/}}
{{- define "cairn.leaseName" -}}
{{- .Values.leaderElection.leaseName | default (include "cairn.fullname" .) -}}
{{- end -}}

{{/*
map: a dict as a YAML block mapping, keys sorted, values quoted.
*/}}
{{- define "cairn.map" -}}
{{- $first := true -}}
{{- range $k, $v := . -}}
{{- if not $first }}{{ "\n" }}{{ end -}}
{{ $k }}: {{ $v | toString | quote }}
{{- $first = false -}}
{{- end -}}
{{- end -}}

{{/*
selectorLabels: the stable labels that select cairn's pods (StatefulSet,
Service, NetworkPolicy, PDB, anti-affinity) and label the volume claims. A
StatefulSet's selector and volumeClaimTemplates are immutable, so nothing
that changes over a release's life (the version) is part of them.
*/}}
{{- define "cairn.selectorDict" -}}
{{- dict "app.kubernetes.io/name" .Chart.Name "app.kubernetes.io/instance" .Release.Name | toJson -}}
{{- end -}}

{{- define "cairn.selectorLabels" -}}
{{- include "cairn.map" (include "cairn.selectorDict" . | fromJson) -}}
{{- end -}}

{{/*
podLabels: selector labels, component, part-of and managed-by, then
.Values.labels underneath (the chart's own keys win); not the version
labels, so that a chart upgrade that leaves the pod spec alone restarts no
pod.
*/}}
{{- define "cairn.podDict" -}}
{{- merge (dict
  "app.kubernetes.io/name" .Chart.Name
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/component" "controller"
  "app.kubernetes.io/part-of" "cairn"
  "app.kubernetes.io/managed-by" .Release.Service) (.Values.labels | default dict) | toJson -}}
{{- end -}}

{{- define "cairn.podLabels" -}}
{{- include "cairn.map" (include "cairn.podDict" . | fromJson) -}}
{{- end -}}

{{/*
labels: the labels of every object: the pod labels plus the version labels.
*/}}
{{- define "cairn.labels" -}}
{{- include "cairn.map" (merge (dict
  "app.kubernetes.io/version" .Chart.AppVersion
  "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-"))
  (include "cairn.podDict" . | fromJson)) -}}
{{- end -}}

{{/*
metadata: name and labels of a namespaced object, for the "metadata:" block.
The release namespace applies; the name is the full name.
*/}}
{{- define "cairn.metadata" -}}
name: {{ include "cairn.fullname" . | quote }}
labels:
  {{- include "cairn.labels" . | nindent 2 }}
{{- end -}}

{{/*
image: by digest when one is set (immutable), else by tag, the chart's
appVersion when no tag is set.
*/}}
{{- define "cairn.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
gitFiles: the keys of git.credentials.existingSecret that are set, as a
list of [flag, key, file name] triples. The file names are fixed, whatever
the keys are called, so the flags never depend on a key's name.
*/}}
{{- define "cairn.gitFiles" -}}
{{- $c := .Values.git.credentials -}}
{{- $files := list -}}
{{- if $c.existingSecret -}}
{{- range $f := list (list "--git-username-file" $c.usernameKey "username") (list "--git-password-file" $c.passwordKey "password") (list "--git-token-file" $c.tokenKey "token") (list "--ssh-key-file" $c.sshKeyKey "ssh-key") (list "--known-hosts-file" $c.knownHostsKey "known_hosts") -}}
{{- if index $f 1 -}}
{{- $files = append $files $f -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}

{{/*
Where the Secrets and the store are mounted.
*/}}
{{- define "cairn.gitDir" -}}/etc/cairn/git{{- end -}}
{{- define "cairn.webhookDir" -}}/etc/cairn/webhook{{- end -}}
{{- define "cairn.stateDir" -}}/var/lib/cairn{{- end -}}
{{- define "cairn.historyDir" -}}/etc/cairn/history{{- end -}}
{{- define "cairn.signingDir" -}}/etc/cairn/audit-signing{{- end -}}
{{- define "cairn.auditSecretsDir" -}}/etc/cairn/audit-secrets{{- end -}}
{{- define "cairn.auditLogDir" -}}/var/log/cairn{{- end -}}
{{- define "cairn.tlsDir" -}}/etc/cairn/tls{{- end -}}
{{- define "cairn.clientCADir" -}}/etc/cairn/client-ca{{- end -}}
{{- define "cairn.oidcDir" -}}/etc/cairn/oidc{{- end -}}

{{/*
tls: "true" when cairn serves HTTPS (tls.existingSecret), else "". Then
the container's and the Service's port are named https and the probes use
HTTPS; clientCA counts only with it (the schema also requires it).
*/}}
{{- define "cairn.tls" -}}
{{- if .Values.tls.existingSecret }}true{{ end -}}
{{- end -}}

{{- define "cairn.clientCA" -}}
{{- if and .Values.tls.existingSecret .Values.tls.clientCA.existingSecret }}true{{ end -}}
{{- end -}}

{{/*
portName: the name of port 8080 on the container and the Service: https
when cairn serves TLS (so that meshes and ingress controllers that go by
the name speak TLS to it), else http. The NetworkPolicy admits the port by
its number, whatever its name.
*/}}
{{- define "cairn.portName" -}}
{{- if include "cairn.tls" . }}https{{ else }}http{{ end -}}
{{- end -}}

{{/*
args: the command line of `cairn serve`, one "--flag=value" per element so
that no value can be read as another flag.
*/}}
{{- define "cairn.args" -}}
- serve
- {{ printf "--repo=%s" .Values.git.repo | quote }}
- {{ printf "--branch=%s" .Values.git.branch | quote }}
- {{ printf "--state-dir=%s" (include "cairn.stateDir" .) | quote }}
- "--listen=:8080"
- {{ printf "--interval=%s" .Values.reconcile.interval | quote }}
- {{ printf "--drift-interval=%s" .Values.reconcile.driftInterval | quote }}
- {{ printf "--drift=%s" .Values.reconcile.drift | quote }}
{{- if .Values.leaderElection.enabled }}
- "--leader-elect"
{{- /* Expanded by the kubelet from the env variable of the same name. */}}
- "--lease-namespace=$(POD_NAMESPACE)"
- {{ printf "--lease-name=%s" (include "cairn.leaseName" .) | quote }}
{{- end }}
{{- range (include "cairn.gitFiles" . | fromJsonArray) }}
- {{ printf "%s=%s/%s" (index . 0) (include "cairn.gitDir" $) (index . 2) | quote }}
{{- end }}
{{- if .Values.webhook.existingSecret }}
- {{ printf "--webhook-secret-file=%s/secret" (include "cairn.webhookDir" .) | quote }}
{{- end }}
{{- if .Values.audit.postgresql.existingSecret }}
- {{ printf "--history-dsn-file=%s/dsn" (include "cairn.historyDir" .) | quote }}
{{- end }}
{{- if .Values.audit.signingKey.existingSecret }}
- {{ printf "--audit-signing-key-file=%s/key.pem" (include "cairn.signingDir" .) | quote }}
{{- end }}
{{- if .Values.audit.secrets }}
- {{ printf "--audit-secrets-dir=%s" (include "cairn.auditSecretsDir" .) | quote }}
{{- end }}
{{- if include "cairn.tls" . }}
- {{ printf "--tls-cert-file=%s/tls.crt" (include "cairn.tlsDir" .) | quote }}
- {{ printf "--tls-key-file=%s/tls.key" (include "cairn.tlsDir" .) | quote }}
{{- end }}
{{- if include "cairn.clientCA" . }}
- {{ printf "--client-ca-file=%s/ca.crt" (include "cairn.clientCADir" .) | quote }}
{{- end }}
{{- if .Values.oidc.clientSecret.existingSecret }}
- {{ printf "--oidc-client-secret-file=%s/client-secret" (include "cairn.oidcDir" .) | quote }}
{{- end }}
{{- end -}}

{{/*
rules: the rules cairn needs in a namespace it applies adapters to (a
ClusterRole's rules, or each namespaced Role's). Adapter releases hold
ServiceAccounts, ConfigMaps, Deployments, Services, NetworkPolicies and
PodDisruptionBudgets; Helm stores each release as a Secret, and cairn reads
the keys of the Secrets adapters reference; pods, ReplicaSets and events
are read for health.
*/}}
{{- define "cairn.adapterRules" -}}
- apiGroups: [""]
  resources: ["configmaps", "secrets", "serviceaccounts", "services"]
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
- apiGroups: [""]
  resources: ["events", "pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{/*
peers: NetworkPolicy peers from values (see the schema's "peer"): an ipBlock,
or a namespaceSelector and/or podSelector by matchLabels. Optional keys are
read with hasKey and get, so that strict rendering accepts their absence.
*/}}
{{- define "cairn.peers" -}}
{{- range $peer := . }}
{{- if hasKey $peer "ipBlock" }}
- ipBlock:
    cidr: {{ $peer.ipBlock.cidr | quote }}
    {{- with get $peer.ipBlock "except" }}
    except:
      {{- range . }}
      - {{ . | quote }}
      {{- end }}
    {{- end }}
{{- else }}
{{- $first := true }}
{{- range $key := list "namespaceSelector" "podSelector" }}
{{- with get $peer $key }}
{{ if $first }}- {{ else }}  {{ end }}{{ $key }}:
    matchLabels:
      {{- include "cairn.map" .matchLabels | nindent 6 }}
{{- $first = false }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
