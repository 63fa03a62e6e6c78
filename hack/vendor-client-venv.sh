#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment with NetApp's official ONTAP client, the oracle of the
# conformance suite (test/conformance). Pinned: a new vendor version is a deliberate change here.
#
# Output: the last line is `VENDOR_PYTHON=<path>`; the same line is written to $VENV/python.env, which
# test/conformance/vendor-conformance.test.ts reads.
#
# Env: GARDENER_EXTENSION_ONTAP_CACHE (cache root).
set -euo pipefail

NETAPP_ONTAP_VERSION="9.19.1.0"
CACHE="${GARDENER_EXTENSION_ONTAP_CACHE:-$HOME/.cache/gardener-extension-ontap}"
VENV="$CACHE/venv-netapp-ontap-$NETAPP_ONTAP_VERSION"

log() { printf '[vendor-client-venv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import netapp_ontap, sys; sys.exit(netapp_ontap.__version__ != '$NETAPP_ONTAP_VERSION')" 2>/dev/null; then
  echo "VENDOR_PYTHON=$VENV/bin/python" | tee "$VENV/python.env"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  log "python3 missing: installing it from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
fi

rm -rf "$VENV"
mkdir -p "$CACHE"
started=$(date +%s)
if ! python3 -m venv "$VENV" >&2 2>/dev/null; then
  # Debian ships ensurepip separately; a fresh machine needs python3-venv for `python3 -m venv`.
  log "python3 -m venv failed: installing python3-venv from Debian"
  rm -rf "$VENV"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
  python3 -m venv "$VENV" >&2
fi
log "installing netapp-ontap==$NETAPP_ONTAP_VERSION from PyPI into $VENV"
"$VENV/bin/pip" install --disable-pip-version-check --no-input -q "netapp-ontap==$NETAPP_ONTAP_VERSION" >&2
log "ready in $(( $(date +%s) - started )) s"
echo "VENDOR_PYTHON=$VENV/bin/python" | tee "$VENV/python.env"
