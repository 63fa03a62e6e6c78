#!/usr/bin/env bash
# Builds (or reuses) the tools that check the Helm chart: helm (renders, lints and is what gardenlet's
# library does with the chart) and promtool (checks the chart's PrometheusRule the way Prometheus parses it).
# Both come from the Go module proxy at pinned versions, like hack/build-kube-binaries.sh builds
# kube-apiserver, and land in the same cache.
#
# Neither module replaces its own dependencies in a way a consumer must repeat, so `go install module@version`
# would do; hack/lib-go-build.sh's throwaway module is used anyway so the build is `go build` with the same flags
# (-trimpath, -s -w) and the version is stamped where each tool's `version` command reads it.
#
# Output: the last lines are `HELM=<path>` and `PROMTOOL=<path>`; the same lines are written to
# $CACHE/bin/chart-tools.env, which test/support/chart-tools.ts reads.
#
# Env: GARDENER_EXTENSION_ONTAP_CACHE (cache root), HELM_VERSION, PROMETHEUS_VERSION, CHART_TOOLS (which to
# build: "helm promtool" by default).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# Prometheus tags its Go module v0.<minor>.<patch> for release v3.<minor>.<patch>.
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
CHART_TOOLS="${CHART_TOOLS:-helm promtool}"

# shellcheck source=hack/lib-go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-go-build.sh"

build_helm() {
  local out="$BIN_DIR/helm-$HELM_VERSION"
  if [ -x "$out" ]; then
    log "reusing $out"
  else
    # helm's Makefile stamps internal/version.version; without it `helm version` says v3.x-dev-ish.
    go_build_module helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "$out" \
      "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  fi
  "$out" version --short >&2
  echo "$out"
}

build_promtool() {
  local out="$BIN_DIR/promtool-$PROMETHEUS_VERSION"
  if [ -x "$out" ]; then
    log "reusing $out"
  else
    local release="v3.${PROMETHEUS_VERSION#v0.}"
    go_build_module github.com/prometheus/prometheus "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool "$out" \
      "-X github.com/prometheus/common/version.Version=${release#v}"
  fi
  "$out" --version 2>&1 | sed -n 1p >&2
  echo "$out"
}

total_start=$SECONDS
HELM="" PROMTOOL=""
for tool in $CHART_TOOLS; do
  case "$tool" in
    helm) HELM="$(build_helm)" ;;
    promtool) PROMTOOL="$(build_promtool)" ;;
    *) log "unknown tool '$tool' in CHART_TOOLS (known: helm promtool)"; exit 1 ;;
  esac
done
# Keep what an earlier run built when this one built only some tools.
if [ -f "$BIN_DIR/chart-tools.env" ]; then
  # shellcheck disable=SC1091
  old_helm="$(sed -n 's/^HELM=//p' "$BIN_DIR/chart-tools.env")"
  old_promtool="$(sed -n 's/^PROMTOOL=//p' "$BIN_DIR/chart-tools.env")"
  [ -n "$HELM" ] || HELM="$old_helm"
  [ -n "$PROMTOOL" ] || PROMTOOL="$old_promtool"
fi
printf 'HELM=%s\nPROMTOOL=%s\n' "$HELM" "$PROMTOOL" >"$BIN_DIR/chart-tools.env.tmp"
mv "$BIN_DIR/chart-tools.env.tmp" "$BIN_DIR/chart-tools.env"
log "done in $((SECONDS - total_start))s"
echo "HELM=$HELM"
echo "PROMTOOL=$PROMTOOL"
