#!/usr/bin/env bash
# Interop with a real OpenAI-compatible gateway: a LiteLLM proxy (PyPI litellm[proxy]==1.106.12)
# serving two mock_response models behind a master key, on 127.0.0.1, as the switchboard's
# OPENROUTER_BASE_URL. The real binary must count tokens on its streams, treat the proxy's
# price-less /models as its live catalog, keep a budget (each call's worst case at
# SWITCHBOARD_UNKNOWN_PRICE stays charged, so a $0.003 budget admits two calls and refuses the
# third), and pass `check` and `check --chat`. See litellm_checks.py for the checks.
#
# LiteLLM is installed once into its own venv, tests/interop/.tools/litellm/ (PyPI is the only
# network access; LiteLLM is told to use its bundled cost map, and no provider is ever called).
# The binary is $CARGO_TARGET_DIR/debug/openrouter-switchboard (target/ by default; built by
# `cargo test`), or $SWITCHBOARD_BIN. Prints one line per check, then `litellm: N passed, M failed`,
# and exits non-zero if any check fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LITELLM_VERSION=1.106.12
VENV="$HERE/.tools/litellm"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN=${SWITCHBOARD_BIN:-$TARGET_DIR/debug/openrouter-switchboard}
export LITELLM_MASTER_KEY="sk-litellm-interop-$(date +%s%N)-$$"
# Offline: LiteLLM's bundled cost map, no telemetry, no update checks.
export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False

if [[ ! -x "$BIN" ]]; then
  echo "no server binary at $BIN: run cargo build (or cargo test) first" >&2
  exit 1
fi

if [[ ! -f "$VENV/installed" || "$(cat "$VENV/installed")" != "$LITELLM_VERSION" ]]; then
  echo "== installing litellm[proxy]==$LITELLM_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
  echo "$LITELLM_VERSION" > "$VENV/installed"
fi

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
LOG="$WORK/litellm.log"
(cd "$WORK" && exec "$VENV/bin/litellm" --config "$HERE/litellm.yaml" --host 127.0.0.1 --port "$PORT") >"$LOG" 2>&1 &
PROXY=$!
cleanup() {
  kill "$PROXY" 2>/dev/null || true
  wait "$PROXY" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Up to 90 s for the proxy to start (about 11 s on the 2-core box).
for _ in $(seq 1 300); do
  if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/health/liveliness', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$PROXY" 2>/dev/null; then
    echo "the LiteLLM proxy exited; its log:" >&2
    tail -n 40 "$LOG" >&2
    echo "litellm: 0 passed, 1 failed"
    exit 1
  fi
  sleep 0.3
done

"$VENV/bin/python" "$HERE/litellm_checks.py" "$BIN" "http://127.0.0.1:$PORT/v1" "$LITELLM_MASTER_KEY" || {
  status=$?
  echo "--- the last lines of the LiteLLM log:" >&2
  tail -n 20 "$LOG" >&2
  exit "$status"
}
