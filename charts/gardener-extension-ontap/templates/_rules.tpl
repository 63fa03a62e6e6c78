{{/*
Alerting rules for the seed Prometheus. Each alert links its runbook section in docs/operations.md.
Kept as a template so the PrometheusRule and the test (promtool check rules / test rules) read the same text.
*/}}
{{- define "alertRules" -}}
groups:
  - name: gardener-extension-ontap
    rules:
      - alert: OntapExtensionEscalated
        expr: max by (namespace, name) (gardener_extension_ontap_escalated) == 1
        for: 5m
        labels: { severity: critical, topology: seed }
        annotations:
          summary: ONTAP storage of {{`{{ $labels.namespace }}`}} keeps failing and was escalated
          description: The Extension {{`{{ $labels.namespace }}/{{ $labels.name }}`}} failed its reconciles for longer than the escalation threshold. Run gardener-extension-ontap doctor --namespace {{`{{ $labels.namespace }}`}}.
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapextensionescalated
      - alert: OntapSeedSecretWritesFailing
        expr: sum(increase(gardener_extension_ontap_step_outcomes_total{step="seed_secret_write",outcome="failed"}[15m])) > 0
        for: 10m
        labels: { severity: warning, topology: seed }
        annotations:
          summary: Writing the shoots' ONTAP credentials Secrets in the seed fails
          description: '{{`{{ $value }}`}} credentials Secret writes failed in 15 minutes; no new password reaches ONTAP until its Secret write succeeds.'
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapseedsecretwritesfailing
      - alert: OntapCredentialsRejected
        # A single 401 is the repair path (a shoot user's password is proven and rotated); 401s for 15 minutes are not.
        expr: sum by (cluster) (rate(gardener_extension_ontap_ontap_requests_total{status="401"}[10m])) > 0
        for: 15m
        labels: { severity: critical, topology: seed }
        annotations:
          summary: ONTAP cluster {{`{{ $labels.cluster }}`}} rejects the extension's credentials
          description: Requests to {{`{{ $labels.cluster }}`}} have been answered 401 for 15 minutes.
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapcredentialsrejected
      - alert: OntapSvmNotRunning
        expr: sum(increase(gardener_extension_ontap_step_outcomes_total{step="svm",outcome="failed"}[15m])) > 0
        for: 15m
        labels: { severity: warning, topology: seed }
        annotations:
          summary: A shoot's SVM is not usable (stopped, or found on two clusters)
          description: The SVM step of some Extension has failed for 15 minutes; the Extension's status names the SVM and the cause.
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapsvmnotrunning
      - alert: OntapApiErrors
        expr: |
          sum by (cluster) (rate(gardener_extension_ontap_ontap_requests_total{status=~"5.."}[10m]))
            / sum by (cluster) (rate(gardener_extension_ontap_ontap_requests_total[10m])) > 0.1
        for: 15m
        labels: { severity: warning, topology: seed }
        annotations:
          summary: ONTAP cluster {{`{{ $labels.cluster }}`}} answers more than 10% of requests with a server error
          description: '{{`{{ $value | humanizePercentage }}`}} of the requests to {{`{{ $labels.cluster }}`}} failed with 5xx in the last 10 minutes.'
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapapierrors
      - alert: OntapClusterUnreachable
        expr: |
          sum by (cluster) (rate(gardener_extension_ontap_ontap_requests_total{status="error"}[5m])) > 0
            unless sum by (cluster) (rate(gardener_extension_ontap_ontap_requests_total{status=~"[1-5].."}[5m])) > 0
        for: 10m
        labels: { severity: critical, topology: seed }
        annotations:
          summary: ONTAP cluster {{`{{ $labels.cluster }}`}} cannot be reached
          description: Every request to {{`{{ $labels.cluster }}`}} for 10 minutes failed without an HTTP answer (connection refused, reset, timeout, TLS).
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapclusterunreachable
      - alert: OntapExtensionNoLeader
        expr: (sum(gardener_extension_ontap_leader) or vector(0)) < 1
        for: 5m
        labels: { severity: critical, topology: seed }
        annotations:
          summary: No gardener-extension-ontap replica leads; no shoot's storage is reconciled
          description: No replica holds the leader Lease extension-ontap-leader-election for 5 minutes (or none runs).
          runbook_url: {{ .Values.monitoring.runbookBaseUrl }}#ontapextensionnoleader
{{- end -}}
