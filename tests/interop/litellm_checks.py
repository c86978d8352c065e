"""Checks the switchboard against a real LiteLLM proxy (started by litellm.sh): the real binary, as
a new user would run it, with OPENROUTER_BASE_URL pointing at the proxy. Standard library only: it
speaks MCP over stdio as newline-delimited JSON-RPC. Prints one line per check and
`litellm: N passed, M failed`; exits 1 on any failure.

Usage: litellm_checks.py BINARY BASE_URL MASTER_KEY
"""

import json
import os
import subprocess
import sys
import tempfile

BINARY, BASE_URL, KEY = sys.argv[1:4]
RESULTS = []

# LiteLLM's /models has no prices: the budget holds each call's worst case at the assumed price
# ($1 per 1M tokens): "hi" is 8 prompt tokens, max_tokens 1000, so $0.001008 per call. An answer
# with a cost of its own (LiteLLM prices gpt-4o-mini from its cost map) settles to that cost; one
# without (local-mock) keeps its worst case charged. So a $0.003 budget admits one gpt-4o-mini call
# (about $0.000006) and two local-mock calls, and refuses the next.
WORST = 0.001008
BUDGET = "0.003"


def record(name, ok, detail=""):
    RESULTS.append(ok)
    detail = str(detail)
    detail = detail if len(detail) <= 400 else detail[:400] + "…"
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)


def env(data_dir, **extra):
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENROUTER_BASE_URL": BASE_URL,
        "OPENROUTER_API_KEY": KEY,
        "SWITCHBOARD_DATA_DIR": data_dir,
        "SWITCHBOARD_DEFAULT_MODEL": "gpt-4o-mini",
        "SWITCHBOARD_FALLBACK_MODELS": "local-mock",
        "SWITCHBOARD_CACHE": "memory",
        "RUST_LOG": "warn",
    }
    base.update(extra)
    return base


def run(args, data_dir, **extra):
    done = subprocess.run(
        [BINARY, *args], env=env(data_dir, **extra), capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


class Mcp:
    """One server process over stdio."""

    def __init__(self, data_dir, **extra):
        self.process = subprocess.Popen(
            [BINARY, "stdio"],
            env=env(data_dir, **extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.next_id = 0
        self.request("initialize", {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "litellm-interop", "version": "1"},
        })
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the server closed stdout during {method}")
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                return reply

    def call(self, tool, arguments):
        """(is_error, structuredContent or text) of one tools/call."""
        result = self.request("tools/call", {"name": tool, "arguments": arguments})["result"]
        text = "\n".join(c.get("text", "") for c in result.get("content", []))
        return bool(result.get("isError")), result.get("structuredContent") or text

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=20)


def check_command(data_dir):
    code, out, err = run(["check"], data_dir)
    record("check exits 0 on the gateway", code == 0, out + err)
    record("check: key accepted without OpenRouter's /key", "ok   key: accepted by GET /models" in out, out)
    record("check: the catalog is the proxy's, live", "ok   catalog: 2 models, live" in out, out)
    code, out, err = run(["check", "--chat"], data_dir)
    chat = [line for line in out.splitlines() if "chat:" in line]
    record("check --chat: one round trip answered", code == 0 and chat and chat[0].startswith("ok"), out + err)


def check_tools(data_dir):
    server = Mcp(data_dir, SWITCHBOARD_BUDGET_USD=BUDGET, SWITCHBOARD_UNKNOWN_PRICE="1")
    try:
        failed, listed = server.call("list_models", {})
        ids = sorted(m["id"] for m in listed["models"]) if not failed else []
        record("list_models shows the proxy's models", ids == ["gpt-4o-mini", "local-mock"], listed)
        record("list_models: catalog.source is live", not failed and listed["catalog"]["source"] == "live", listed)
        record("list_models: no price is shown as 0", not failed and all(
            m["prompt_price_per_m"] is None for m in listed["models"]), listed)
        ask = {"prompt": "hi", "max_tokens": 1000, "cache": "bypass", "fallback_models": []}
        failed, first = server.call("ask_model", {**ask, "model": "gpt-4o-mini"})
        record("ask_model: the mock's answer", not failed and first["text"] == "Hello from the LiteLLM mock.", first)
        usage = first["usage"] if not failed else {}
        record("ask_model: tokens counted (stream_options.include_usage)",
               usage.get("prompt_tokens", 0) > 0 and usage.get("completion_tokens", 0) > 0, usage)
        # gpt-4o-mini is in LiteLLM's own cost map: it reports usage.cost on the usage chunk.
        priced = usage.get("cost_usd", 0)
        record("ask_model: LiteLLM's own cost is taken (cost_source upstream)",
               usage.get("cost_source") == "upstream" and 0 < priced < WORST, usage)
        for turn in (1, 2):
            failed, answer = server.call("ask_model", {**ask, "model": "local-mock"})
            usage = answer["usage"] if not failed else {}
            record(f"ask_model: local-mock answers ({turn} of 2)", not failed and answer["text"] == "A second mock answer.", answer)
            record(f"ask_model: local-mock is unpriced, its worst case stays charged ({turn} of 2)",
                   usage.get("cost_source") == "unknown" and usage.get("cost_usd") == WORST
                   and usage.get("completion_tokens", 0) > 0, usage)
        failed, refused = server.call("ask_model", {**ask, "model": "local-mock"})
        record("the budget trips on the next call", failed and "SWITCHBOARD_BUDGET_USD" in str(refused), refused)
        failed, status = server.call("account_status", {})
        spent = status["budget"]["spent_usd"] if not failed else None
        record("account_status: spent is LiteLLM's cost plus two worst cases",
               spent == round(priced + 2 * WORST, 10), status)
    finally:
        server.close()


def main():
    for step in (check_command, check_tools):  # each with its own ledger
        with tempfile.TemporaryDirectory() as data_dir:
            try:
                step(data_dir)
            except Exception as error:  # a crash is one failed check, and the rest still run
                record(step.__name__, False, repr(error))
    passed = sum(RESULTS)
    print(f"litellm: {passed} passed, {len(RESULTS) - passed} failed")
    return 0 if passed == len(RESULTS) and RESULTS else 1


if __name__ == "__main__":
    sys.exit(main())
