{{/*
The Go extension's name for every object of the release. The shoot webhook URL Gardener's webhook library
builds is https://<this name>.<release namespace>:<service port>/shoot, so the Service must be called this.
*/}}
{{- define "name" -}}
gardener-extension-extension-ontap
{{- end -}}

{{- define "labels" -}}
app.kubernetes.io/name: {{ include "name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "image" -}}
{{- if hasPrefix "sha256:" .Values.image.tag -}}
{{ printf "%s@%s" .Values.image.repository .Values.image.tag }}
{{- else -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* The Lease name the Go extension elects its leader on: old and new pods never lead at the same time. */}}
{{- define "leaderElectionId" -}}
{{ .Values.leaderElection.id }}
{{- end -}}

{{- define "leaderElectionNamespace" -}}
{{ .Values.leaderElection.namespace | default .Release.Namespace }}
{{- end -}}

{{/* The Secret the chart creates for an ONTAP cluster whose credentials are given in the values. */}}
{{- define "clusterSecretName" -}}
{{ include "name" .root }}-ontap-{{ .cluster.name }}
{{- end -}}

{{/*
The Secrets this controller reads and writes in shoot namespaces, by name: RBAC can then grant exactly these
instead of every Secret of the seed. Keep in step with src/trident/names.ts and src/ontap-extension/plan.ts
(test/integration/chart.test.ts compares them).
*/}}
{{- define "shootSecretNames" -}}
- ontap-svm-credentials
- managedresource-trident-crds
- managedresource-trident-backends
- managedresource-trident-svm-secret
- managedresource-trident-cwnp
- managedresource-trident-init
- managedresource-extension-ontap-shoot
- shoot-access-extension-ontap-health
{{- end -}}

{{- define "managedResourceNames" -}}
- trident-crds
- trident-backends
- trident-svm-secret
- trident-cwnp
- trident-init
- extension-ontap-shoot
{{- end -}}

{{- define "config" -}}
apiVersion: ontap.extensions.config.gardener.cloud/v1alpha1
kind: ControllerConfiguration
extensionClass: {{ .Values.config.extensionClass }}
svmDeletionPolicy: {{ .Values.config.svmDeletionPolicy }}
escalation:
  consecutiveFailures: {{ .Values.config.escalation.consecutiveFailures }}
  afterMinutes: {{ .Values.config.escalation.afterMinutes }}
clusterwideNetworkPolicy: {{ .Values.config.clusterwideNetworkPolicy }}
{{- with .Values.config.tridentOperatorImage }}
tridentOperatorImage: {{ . }}
{{- end }}
{{- with .Values.config.requeue }}
requeue:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.config.ontapRequests }}
ontapRequests:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.config.healthCheck }}
healthCheck:
{{ toYaml . | indent 2 }}
{{- end }}
{{- if not .Values.config.clusters }}
clusters: []   # set config.clusters: the controller refuses to start without an ONTAP cluster
{{- else }}
clusters:
{{- end }}
{{- range .Values.config.clusters }}
  - name: {{ required "config.clusters[].name is required" .name }}
    {{- if .ipaddress }}
    {{- /* The Go extension's entry (metal-roles' gardener_extension_ontap_clusters): kept in its format, so the
    controller knows it and connects as the Go extension did unless a way to verify TLS is added; the password
    goes into the cluster's Secret like every other, never into this ConfigMap. */}}
    {{- if .url }}
    {{- fail (printf "config.clusters[%s]: set either ipaddress (the Go extension's format) or url, not both" .name) }}
    {{- end }}
    ipaddress: {{ .ipaddress | quote }}
    {{- else }}
    url: {{ required (printf "config.clusters[%s].url is required (https://<cluster management address>), or ipaddress in the Go extension's format" .name) .url }}
    {{- end }}
    {{- if or .ca .caSecret }}
    caFile: /etc/gardener-extension-ontap/ca/{{ .name }}/ca.crt
    {{- end }}
    usernameFile: /etc/gardener-extension-ontap/credentials/{{ .name }}/username
    passwordFile: /etc/gardener-extension-ontap/credentials/{{ .name }}/password
    {{- if .pinCertificate }}
    pinCertificate: true
    {{- end }}
    {{- if .insecureSkipTlsVerify }}
    insecureSkipTlsVerify: true
    {{- end }}
    {{- with .timeoutSeconds }}
    timeoutSeconds: {{ . }}
    {{- end }}
{{- end }}
{{- end -}}


{{/* True when a cluster pins its certificate: the controller then keeps the pins in a ConfigMap (role.yaml). */}}
{{- define "pinsCertificates" -}}
{{- range .Values.config.clusters }}{{ if .pinCertificate }}true{{ end }}{{ end -}}
{{- end -}}
