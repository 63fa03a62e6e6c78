#!/usr/bin/env bash
# Builds (or reuses) kube-apiserver, etcd and gardener-resource-manager for the test environment from the Go
# module proxy.
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with ./staging paths, and Go ignores the
# replace directives of a dependency, so `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` cannot work.
# Instead a throwaway module outside the repo requires k8s.io/kubernetes and replaces each staging module
# with its published twin (v1.N.M -> v0.N.M). The staging list is read from the release's own go.mod so a
# version bump needs no edit here beyond KUBE_VERSION.
#
# gardener-resource-manager comes from github.com/gardener/gardener the same way: that module replaces its
# nested module github.com/gardener/gardener/pkg/apis with ./pkg/apis (and excludes a few versions), which a
# consumer must mirror with the published twin at the same tag.
#
# Output: the last three lines are `KUBE_APISERVER=<path>`, `ETCD=<path>` and `GARDENER_RESOURCE_MANAGER=<path>`;
# the same lines are written to $CACHE/bin/binaries.env, which src/testenv/binaries.ts reads.
#
# Env: GARDENER_EXTENSION_ONTAP_CACHE (cache root), KUBE_VERSION, ETCD_VERSION, ETCD_SOURCE (build|debian),
# GARDENER_VERSION.
# Opt-in: BUILD_GARDENER_FLOOR=1 also builds gardener-resource-manager at GARDENER_FLOOR_VERSION (v1.138.3, the
# version metal-stack's release vector pins; a second long Go build) and adds GARDENER_RESOURCE_MANAGER_FLOOR to
# binaries.env. A test world runs it with TESTENV_GARDENER_RESOURCE_MANAGER_BIN=<that path> and
# TESTENV_CRD_DIR=hack/crds/gardener-floor/seed.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
# Debian bookworm's etcd-server (3.4.23) starts and serves CRUD with kube-apiserver v1.37, but every watch
# without a resourceVersion fails with `504 Too large resource version: N, current: 1`: the watch cache needs
# etcd's progress notifications (3.4.31+/3.5.13+). So etcd is built from its Go module like kube-apiserver;
# ETCD_SOURCE=debian uses the package anyway.
ETCD_SOURCE="${ETCD_SOURCE:-build}"
GARDENER_VERSION="${GARDENER_VERSION:-v1.149.3}"
GARDENER_FLOOR_VERSION="${GARDENER_FLOOR_VERSION:-v1.138.3}"
BUILD_GARDENER_FLOOR="${BUILD_GARDENER_FLOOR:-0}"

# shellcheck source=hack/lib-go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-go-build.sh"

# Prints the go.mod `replace` lines for every module of $1 (a go.mod path) that replaces a k8s.io/* module
# with a local ./staging path AND is required by that go.mod. Unrequired ones (sample-controller, ...) are
# not in the build graph, and some of them are not even published.
staging_modules() {
  local gomod="$1"
  awk '
    /^require[[:space:]]*\(/ { inreq = 1; next }
    /^replace[[:space:]]*\(/ { inrep = 1; next }
    /^\)/ { inreq = 0; inrep = 0; next }
    inreq && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { req[$1] = 1 }
    inrep && $1 ~ /^k8s\.io\// && $3 ~ /^\.\/staging\// { rep[$1] = 1 }
    END { for (m in rep) if (m in req) print m }
  ' "$gomod" | sort
}

build_kube_apiserver() {
  local out="$BIN_DIR/kube-apiserver-$KUBE_VERSION"
  if [ -x "$out" ]; then
    log "reusing $out"
    echo "$out"
    return
  fi
  log "reading the staging module list of k8s.io/kubernetes@$KUBE_VERSION"
  local gomod
  gomod="$(cd "$BUILD_ROOT" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$gomod" ] || { log "could not download the go.mod of k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
  local twin="v0.${KUBE_VERSION#v1.}"
  local replaces=() m
  while read -r m; do
    replaces+=("$m => $m $twin")
  done < <(staging_modules "$gomod")
  [ "${#replaces[@]}" -gt 0 ] || { log "no staging modules found in $gomod"; exit 1; }
  # What Kubernetes' own build (hack/lib/version.sh) stamps: without it the binary calls itself
  # v0.0.0-master, which /version reports and clients log.
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local ldflags="" pkgpath
  for pkgpath in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkgpath.gitVersion=$KUBE_VERSION -X $pkgpath.gitMajor=1 -X $pkgpath.gitMinor=$minor"
    ldflags+=" -X $pkgpath.gitTreeState=clean -X $pkgpath.buildDate=1970-01-01T00:00:00Z"
  done
  go_build_module k8s.io/kubernetes "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver "$out" "$ldflags" "${replaces[@]}"
  echo "$out"
}

build_etcd() {
  if [ "$ETCD_SOURCE" = "debian" ]; then
    if ! command -v etcd >/dev/null 2>&1; then
      log "installing Debian's etcd-server"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2
    fi
    command -v etcd
    return
  fi
  local out="$BIN_DIR/etcd-$ETCD_VERSION"
  if [ -x "$out" ]; then
    log "reusing $out"
    echo "$out"
    return
  fi
  # The server's main package is the root of the go.etcd.io/etcd/server/v3 module; its own go.mod has no
  # replace directives that matter for a consumer, so no replace block is needed.
  go_build_module go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$out" ""
  echo "$out"
}

# Prints, for a go.mod ($1) of a module released at tag $2, the replace lines a consumer needs: a local
# replace `M => ./dir` (a nested module of the same repository) becomes `M => M $2` (its published twin, tagged
# together with the parent); a replace to another module version is copied as is.
mirrored_replaces() {
  local gomod="$1" version="$2"
  awk -v version="$version" '
    function emit(from, to) {
      n = split(to, parts, /[[:space:]]+/)
      if (parts[1] ~ /^\.\.?\//) print from " => " from " " version
      else print from " => " to
    }
    /^replace[[:space:]]*\(/ { inrep = 1; next }
    inrep && /^\)/ { inrep = 0; next }
    inrep && /=>/ { split($0, lr, /[[:space:]]*=>[[:space:]]*/); sub(/^[[:space:]]+/, "", lr[1]); emit(lr[1], lr[2]); next }
    /^replace[[:space:]]+[^(]/ { sub(/^replace[[:space:]]+/, ""); split($0, lr, /[[:space:]]*=>[[:space:]]*/); emit(lr[1], lr[2]) }
  ' "$gomod"
}

# The exclude directives of a go.mod ($1), one `exclude M V` per line.
mirrored_excludes() {
  awk '
    /^exclude[[:space:]]*\(/ { inex = 1; next }
    inex && /^\)/ { inex = 0; next }
    inex && NF >= 2 { print "exclude " $1 " " $2; next }
    /^exclude[[:space:]]+[^(]/ { print "exclude " $2 " " $3 }
  ' "$1"
}

build_gardener_resource_manager() {
  local out="$BIN_DIR/gardener-resource-manager-$GARDENER_VERSION"
  if [ -x "$out" ]; then
    log "reusing $out"
    echo "$out"
    return
  fi
  log "reading the replace and exclude directives of github.com/gardener/gardener@$GARDENER_VERSION"
  local gomod
  gomod="$(cd "$BUILD_ROOT" && GOFLAGS=-mod=mod go mod download -json "github.com/gardener/gardener@$GARDENER_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$gomod" ] || { log "could not download the go.mod of github.com/gardener/gardener@$GARDENER_VERSION"; exit 1; }
  local replaces=() line
  while read -r line; do
    [ -n "$line" ] && replaces+=("$line")
  done < <(mirrored_replaces "$gomod" "$GARDENER_VERSION")
  # Gardener stamps k8s.io/component-base/version (hack/get-build-ld-flags.sh); `--version` then names the release.
  local minor="${GARDENER_VERSION#v1.}"
  minor="${minor%%.*}"
  local ldflags="-X k8s.io/component-base/version.gitVersion=$GARDENER_VERSION -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  EXTRA_GO_MOD="$(mirrored_excludes "$gomod")" go_build_module github.com/gardener/gardener "$GARDENER_VERSION" \
    github.com/gardener/gardener/cmd/gardener-resource-manager "$out" "$ldflags" "${replaces[@]}"
  echo "$out"
}

total_start=$SECONDS
KUBE_APISERVER="$(build_kube_apiserver)"
ETCD="$(build_etcd)"
GARDENER_RESOURCE_MANAGER="$(build_gardener_resource_manager)"
"$KUBE_APISERVER" --version >&2
"$ETCD" --version | sed -n 1p >&2
"$GARDENER_RESOURCE_MANAGER" --version >&2
printf 'KUBE_APISERVER=%s\nETCD=%s\nGARDENER_RESOURCE_MANAGER=%s\n' "$KUBE_APISERVER" "$ETCD" "$GARDENER_RESOURCE_MANAGER" \
  >"$BIN_DIR/binaries.env.tmp"
if [ "$BUILD_GARDENER_FLOOR" = "1" ]; then
  GARDENER_RESOURCE_MANAGER_FLOOR="$(GARDENER_VERSION="$GARDENER_FLOOR_VERSION" build_gardener_resource_manager)"
  "$GARDENER_RESOURCE_MANAGER_FLOOR" --version >&2
  printf 'GARDENER_RESOURCE_MANAGER_FLOOR=%s\n' "$GARDENER_RESOURCE_MANAGER_FLOOR" >>"$BIN_DIR/binaries.env.tmp"
elif [ -x "$BIN_DIR/gardener-resource-manager-$GARDENER_FLOOR_VERSION" ]; then
  # Built by an earlier opt-in run: keep naming it.
  printf 'GARDENER_RESOURCE_MANAGER_FLOOR=%s\n' "$BIN_DIR/gardener-resource-manager-$GARDENER_FLOOR_VERSION" >>"$BIN_DIR/binaries.env.tmp"
fi
mv "$BIN_DIR/binaries.env.tmp" "$BIN_DIR/binaries.env"
log "done in $((SECONDS - total_start))s; cache: $(du -sh "$CACHE" | cut -f1) in $CACHE"
echo "KUBE_APISERVER=$KUBE_APISERVER"
echo "ETCD=$ETCD"
echo "GARDENER_RESOURCE_MANAGER=$GARDENER_RESOURCE_MANAGER"
