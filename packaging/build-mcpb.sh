#!/usr/bin/env bash
# Builds the MCP Bundle (.mcpb) for this machine's platform, and the server.json to publish with it.
#
#   packaging/build-mcpb.sh [--binary PATH] [--out DIR]
#
# Without --binary it runs `cargo build --release` and bundles target/release/openrouter-switchboard.
# The bundle holds manifest.json (its `compatibility.platforms` narrowed to this platform), icon.png
# and server/openrouter-switchboard. It is validated and packed with the official MCPB CLI
# (npm @anthropic-ai/mcpb, installed into packaging/.tools on first use). The output directory
# (dist/ by default) gets openrouter-switchboard-VERSION-PLATFORM-ARCH.mcpb and server.json: the
# repository's server.json with this bundle's download URL and SHA-256 filled in.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MCPB_VERSION=2.1.2
BINARY=""
OUT="$ROOT/dist"
while (($#)); do
  case "$1" in
    --binary) BINARY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument: $1 (use --binary PATH, --out DIR)" >&2; exit 2 ;;
  esac
done

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
case "$(uname -s)" in
  Linux) PLATFORM=linux ;;
  Darwin) PLATFORM=darwin ;;
  MINGW* | MSYS* | CYGWIN*) PLATFORM=win32 ;;
  *) echo "unsupported platform $(uname -s)" >&2; exit 1 ;;
esac
ARCH=$(uname -m)
EXE=""
[[ $PLATFORM == win32 ]] && EXE=".exe"

if [[ -z "$BINARY" ]]; then
  (cd "$ROOT" && cargo build --release --locked)
  BINARY="${CARGO_TARGET_DIR:-$ROOT/target}/release/openrouter-switchboard$EXE"
fi
if [[ ! -x "$BINARY" ]]; then
  echo "no server binary at $BINARY" >&2
  exit 1
fi

# The official CLI, pinned.
TOOLS="$HERE/.tools"
MCPB="$TOOLS/node_modules/.bin/mcpb"
if [[ ! -x "$MCPB" || "$(cat "$TOOLS/installed" 2>/dev/null)" != "$MCPB_VERSION" ]]; then
  rm -rf "$TOOLS" && mkdir -p "$TOOLS"
  echo '{"name":"switchboard-packaging-tools","private":true}' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error "@anthropic-ai/mcpb@$MCPB_VERSION")
  echo "$MCPB_VERSION" > "$TOOLS/installed"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/server" "$OUT"
python3 - "$HERE/manifest.json" "$STAGE/manifest.json" "$PLATFORM" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
manifest["compatibility"]["platforms"] = [sys.argv[3]]
json.dump(manifest, open(sys.argv[2], "w"), indent=2)
PY
cp "$HERE/icon.png" "$STAGE/icon.png"
cp "$BINARY" "$STAGE/server/openrouter-switchboard$EXE"
chmod 755 "$STAGE/server/openrouter-switchboard$EXE"

"$MCPB" validate "$STAGE/manifest.json"
BUNDLE="$OUT/openrouter-switchboard-$VERSION-$PLATFORM-$ARCH.mcpb"
"$MCPB" pack "$STAGE" "$BUNDLE"

SHA=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$BUNDLE")
python3 - "$ROOT/server.json" "$OUT/server.json" "$VERSION" "$(basename "$BUNDLE")" "$SHA" <<'PY'
import json, sys
server = json.load(open(sys.argv[1]))
version, name, sha = sys.argv[3], sys.argv[4], sys.argv[5]
for package in server["packages"]:
    if package["registryType"] == "mcpb":
        base = package["identifier"].rsplit("/", 1)[0]
        package["identifier"] = f"{base}/{name}"
        package["fileSha256"] = sha
json.dump(server, open(sys.argv[2], "w"), indent=2)
PY
echo "built $BUNDLE (sha256 $SHA) and $OUT/server.json"
