# shellcheck shell=bash
# Sourced by hack/build-kube-binaries.sh and hack/build-chart-tools.sh: the cache layout, the log line and the
# one way this repo builds a Go binary from the module proxy. The sourcing script runs with `set -euo pipefail`.
#
# Env: GARDENER_EXTENSION_ONTAP_CACHE (cache root, default ~/.cache/gardener-extension-ontap).

# `[<script name> HH:MM:SS] message` on stderr; the demo reads the `[build-kube-binaries …]` lines as progress.
log() { printf '[%s %s] %s\n' "$(basename "$0" .sh)" "$(date +%H:%M:%S)" "$*" >&2; }

CACHE="${GARDENER_EXTENSION_ONTAP_CACHE:-$HOME/.cache/gardener-extension-ontap}"
BIN_DIR="$CACHE/bin"
BUILD_ROOT="$CACHE/build"
mkdir -p "$BIN_DIR" "$BUILD_ROOT"

# A toolchain download is impossible on these machines; fail loudly instead of trying one silently.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# go_build_module MODULE VERSION PACKAGE OUTPUT LDFLAGS [REPLACE_LINES...]
# Builds PACKAGE of MODULE@VERSION into OUTPUT through a throwaway module under $BUILD_ROOT that requires it
# (and replaces what REPLACE_LINES say). $EXTRA_GO_MOD (optional) is appended to the generated go.mod verbatim
# (exclude directives).
go_build_module() {
  local module="$1" version="$2" pkg="$3" out="$4" ldflags="$5"
  shift 5
  command -v go >/dev/null 2>&1 || { log "go is not on PATH; install Go >= the module's go directive"; exit 1; }
  local dir
  dir="$BUILD_ROOT/$(basename "$out")"
  rm -rf "$dir"
  mkdir -p "$dir"
  {
    echo "module local.build/$(basename "$out")"
    echo
    echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
    echo
    echo "require $module $version"
    if [ "$#" -gt 0 ]; then
      echo
      echo "replace ("
      printf '\t%s\n' "$@"
      echo ")"
    fi
    if [ -n "${EXTRA_GO_MOD:-}" ]; then
      echo
      printf '%s\n' "$EXTRA_GO_MOD"
    fi
  } >"$dir/go.mod"
  log "resolving and compiling $pkg from $module@$version ($# replace directives; minutes on two cores)"
  local start=$SECONDS
  # -mod=mod lets go fill go.sum for the generated module; -trimpath/-s -w keep the binary small and
  # independent of this machine's paths.
  (cd "$dir" && go build -mod=mod -trimpath -ldflags="-s -w $ldflags" -o "$out.tmp" "$pkg") &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "still compiling $pkg ($((SECONDS - start))s so far)"
  done
  wait "$pid"
  mv "$out.tmp" "$out"
  rm -rf "$dir"
  log "built $out in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}
