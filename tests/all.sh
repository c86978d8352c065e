#!/usr/bin/env bash
# The whole test suite, as the README gives it and .ci/run runs it:
#   1. cargo test: unit tests, the real binary against fake upstreams, floods, packaging checks;
#   2. tests/interop/run.sh: MCP clients we did not write (Python SDK, inspector, conformance);
#   3. tests/interop/litellm.sh: a real LiteLLM proxy as the OpenAI-compatible upstream;
#   4. the MCP bundle built, validated with @anthropic-ai/mcpb and started as a host would, its
#      server.json checked against the registry schema, and `cargo package`.
# Steps 2 to 4 install their clients from npm and PyPI on first use (into tests/interop/.tools and
# packaging/.tools). Stops at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test --locked

echo "== interop: third-party MCP clients (Python SDK, inspector, conformance) against the real binary"
bash tests/interop/run.sh

echo "== interop: a real LiteLLM proxy (PyPI litellm[proxy], pinned) as the OpenAI-compatible upstream"
timeout 600 bash tests/interop/litellm.sh

echo "== packaging: the MCPB bundle (validated and packed with @anthropic-ai/mcpb), server.json, cargo package"
DIST=$(mktemp -d)
trap 'rm -rf "$DIST"' EXIT
bash packaging/build-mcpb.sh --binary "${CARGO_TARGET_DIR:-target}/debug/openrouter-switchboard" --out "$DIST"
tests/interop/.tools/venv/bin/python packaging/check-bundle.py "$DIST"
cargo package --locked
echo "steps: 4 passed, 0 failed"
