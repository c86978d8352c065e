"""Checks a built MCPB bundle as a host would use it.

    python3 packaging/check-bundle.py DIST_DIR

Unpacks the .mcpb in DIST_DIR, starts the bundled server the way manifest.json says (command, args,
env with the user_config values substituted), and checks it answers `initialize` and `tools/list` over
stdio with the tools the manifest declares. Then validates DIST_DIR/server.json (the one to publish,
with the bundle's SHA-256) against the registry schema kept in packaging/schema/, and checks that the
SHA-256 is the bundle's. Needs the `jsonschema` package (the interop venv has it).
"""

import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def substitute(value, bundle_dir, user_config):
    value = value.replace("${__dirname}", bundle_dir)
    for key, setting in user_config.items():
        value = value.replace("${user_config.%s}" % key, setting)
    return value


def run_bundle(bundle_dir):
    manifest = json.load(open(os.path.join(bundle_dir, "manifest.json")))
    config = manifest["server"]["mcp_config"]
    user_config = {"openrouter_api_key": "sk-or-v1-bundle-check", "default_model": "openai/gpt-5-mini", "budget_usd": ""}
    command = substitute(config["command"], bundle_dir, user_config)
    args = [substitute(a, bundle_dir, user_config) for a in config.get("args", [])]
    env = {k: substitute(v, bundle_dir, user_config) for k, v in config.get("env", {}).items()}
    data = tempfile.mkdtemp()
    env.update({"PATH": os.environ.get("PATH", ""), "SWITCHBOARD_DATA_DIR": data, "SWITCHBOARD_CACHE": "memory"})
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bundle-check", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    process = subprocess.run([command, *args], input=stdin, capture_output=True, text=True, env=env, timeout=30)
    replies = {m.get("id"): m for m in map(json.loads, process.stdout.splitlines())}
    assert 1 in replies and 2 in replies, f"the bundled server did not answer: exit {process.returncode}, stderr: {process.stderr[-2000:]}"
    assert replies[1]["result"]["serverInfo"]["name"], f"initialize: {process.stdout} {process.stderr}"
    served = sorted(t["name"] for t in replies[2]["result"]["tools"])
    declared = sorted(t["name"] for t in manifest["tools"])
    assert served == declared, f"the bundle serves {served}, the manifest declares {declared}"
    print(f"bundle: {command} {' '.join(args)} answers initialize and tools/list ({len(served)} tools)")


def check_server_json(dist, bundle):
    server = json.load(open(os.path.join(dist, "server.json")))
    schema = json.load(open(os.path.join(HERE, "schema", "server.schema.json")))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(server)
    sha = hashlib.sha256(open(bundle, "rb").read()).hexdigest()
    mcpb = [p for p in server["packages"] if p["registryType"] == "mcpb"]
    assert mcpb and mcpb[0]["fileSha256"] == sha, "server.json carries the bundle's SHA-256"
    assert mcpb[0]["identifier"].endswith("/" + os.path.basename(bundle)), "server.json names the bundle"
    print(f"server.json: valid against {schema['$id']}, sha256 {sha}")


def main():
    dist = sys.argv[1]
    bundles = glob.glob(os.path.join(dist, "*.mcpb"))
    assert len(bundles) == 1, f"one bundle expected in {dist}, found {bundles}"
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(bundles[0]) as archive:
            for info in archive.infolist():
                path = archive.extract(info, unpacked)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(path, mode)
        run_bundle(unpacked)
    check_server_json(dist, bundles[0])


if __name__ == "__main__":
    main()
