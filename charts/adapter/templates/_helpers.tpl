{{/*
Helpers of the cairn-adapter chart.

Every map that ends up in a manifest (labels, annotations, selectors) is built
as a dict and written by "cairn-adapter.map": keys come out sorted (range
visits a map in key order) and every value quoted, so that YAML never
reads a value as a number or a boolean (an adapter named "1234", a label
value "true"). Nothing here reads the clock or random numbers, so the same
values always render the same bytes. The helpers build dicts directly rather
than through toYaml and fromJson, which were a fifth of a render's time.
*/}}

{{/*
fullname: the name of every object. cairn names the release after the adapter,
so the release name is the name; Helm limits release names to 53 characters,
Kubernetes names to 63.
*/}}
{{- define "cairn-adapter.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
map: a dict as a YAML block mapping, keys sorted, values quoted (keys are
qualified names, which Kubernetes and the values schema restrict to safe
characters).
*/}}
{{- define "cairn-adapter.map" -}}
{{- $first := true -}}
{{- range $k, $v := . -}}
{{- if not $first }}{{ "\n" }}{{ end -}}
{{ $k }}: {{ $v | toString | quote }}
{{- $first = false -}}
{{- end -}}
{{- end -}}

{{/*
selectorLabels: the small, stable subset of labels that selects the
adapter's pods (Deployment selector, Service, NetworkPolicy, PDB). A
Deployment's selector is immutable, so nothing that can change over an
adapter's life (environment, version, user labels) is part of it.
*/}}
{{- define "cairn-adapter.selectorLabels" -}}
{{- include "cairn-adapter.map" (dict "app.kubernetes.io/name" "cairn-adapter" "app.kubernetes.io/instance" .Release.Name) -}}
{{- end -}}

{{/*
podLabels: the labels of the pods: selector labels, cairn's labels
(adapter, environment, protocol, role) and .Values.labels, but not the
chart's version labels, so that a new chart version that leaves the pod spec
alone does not restart every session. The chart's own labels win over
.Values.labels: a user label can add to them but never rename the adapter,
move it to another environment or change the selector.
*/}}
{{- define "cairn-adapter.podLabels" -}}
{{- include "cairn-adapter.map" (merge (dict
  "app.kubernetes.io/name" "cairn-adapter"
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/managed-by" "cairn"
  "app.kubernetes.io/part-of" .Chart.Name
  "cairn.dev/adapter" .Values.adapter.name
  "cairn.dev/environment" .Values.adapter.environment
  "cairn.dev/protocol" .Values.adapter.protocol
  "cairn.dev/role" .Values.adapter.role) (.Values.labels | default dict)) -}}
{{- end -}}

{{/*
labels: the labels of every object: the pod labels above plus the chart's
version labels.
*/}}
{{- define "cairn-adapter.labels" -}}
{{- include "cairn-adapter.map" (merge (dict
  "app.kubernetes.io/name" "cairn-adapter"
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/managed-by" "cairn"
  "app.kubernetes.io/part-of" .Chart.Name
  "cairn.dev/adapter" .Values.adapter.name
  "cairn.dev/environment" .Values.adapter.environment
  "cairn.dev/protocol" .Values.adapter.protocol
  "cairn.dev/role" .Values.adapter.role
  "app.kubernetes.io/version" .Chart.AppVersion
  "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-")) (.Values.labels | default dict)) -}}
{{- end -}}

{{/*
annotations: provenance on every object: the Git revision that last changed
the adapter and the digest of its values. They sit on the objects' metadata
only, never on the pod template: a new revision or digest must not restart a
session unless the pod itself changes. .Values.annotations add to them.
*/}}
{{- define "cairn-adapter.annotations" -}}
{{- include "cairn-adapter.map" (merge (dict "cairn.dev/revision" .Values.cairn.revision "cairn.dev/values-digest" .Values.cairn.valuesDigest) (.Values.annotations | default dict)) -}}
{{- end -}}

{{/*
metadata: name, labels and annotations of a top-level object, indented for
the "metadata:" block.
*/}}
{{- define "cairn-adapter.metadata" -}}
name: {{ include "cairn-adapter.fullname" . | quote }}
labels:
  {{- include "cairn-adapter.labels" . | nindent 2 }}
annotations:
  {{- include "cairn-adapter.annotations" . | nindent 2 }}
{{- end -}}

{{/*
isAcceptor: "true" for an acceptor, "" otherwise.
*/}}
{{- define "cairn-adapter.isAcceptor" -}}
{{- if eq .Values.adapter.role "acceptor" }}true{{ end -}}
{{- end -}}

{{/*
sessionConfig: the document the adapter reads from /etc/cairn/session.json.
Only what the adapter process uses goes in: its identity, the protocol block,
where it connects and where it listens. The Service type, allowed sources,
egress rules, labels, description and the suspended flag stay out, so that
changing them (say, widening a counterparty's range) does not change the
config checksum and does not restart a live session. Never a secret: the
values hold none, and credentials are read from the mounted Secrets.
toPrettyJson sorts keys, so the bytes are deterministic.
*/}}
{{- define "cairn-adapter.sessionConfig" -}}
{{- $adapter := pick .Values.adapter "name" "environment" "protocol" "role" -}}
{{- $listen := pick .Values.listen "port" "tls" -}}
{{- dict "adapter" $adapter "session" .Values.session "connect" .Values.connect "listen" $listen | toPrettyJson -}}
{{- end -}}

{{/*
image: by digest when one is set (immutable), else by tag.
*/}}
{{- define "cairn-adapter.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}
