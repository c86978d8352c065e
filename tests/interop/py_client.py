"""Drives openrouter-switchboard with the official Python MCP SDK (PyPI `mcp`), a client we did not write.

usage:
  py_client.py stdio BINARY [--mode legacy|auto]          (env: the server's env, passed through)
  py_client.py http  URL    [--mode legacy|auto] [--token T]
  py_client.py sse   URL    [--token T]                   (legacy HTTP+SSE, protocol 2024-11-05)

Checks: the tool list, list_models and estimate_cost structured output, ask_model against the fake
OpenRouter with progress, and an unknown model as a tool error; every resource and the model
template read as JSON, both prompts listed and expanded, and a model argument completed. Exits non-zero on any failure.
"""

import asyncio
import json
import os
import sys

import httpx2
import mcp_types
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {"ask_model", "compare_models", "list_models", "estimate_cost"}
MODEL = "openai/gpt-5-mini"
RESOURCES = ["openrouter://models", "switchboard://usage", "switchboard://health"]
PROMPTS = ["second_opinion", "cross_check"]
SERVER_ENV = ("OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "SWITCHBOARD_DATA_DIR", "SWITCHBOARD_CACHE", "RUST_LOG")


def arg(name: str, default: str | None = None) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"  ok: {what}")


async def exercise(session) -> None:
    """Works with both `Client` (mcp 2.x high-level) and `ClientSession`."""
    tools = await session.list_tools()
    names = {t.name for t in tools.tools}
    check(TOOLS <= names, f"tools/list has the four tools ({sorted(names)})")
    ask = next(t for t in tools.tools if t.name == "ask_model")
    check(ask.output_schema is not None and ask.annotations is not None, "ask_model declares outputSchema and annotations")

    listed = await session.call_tool("list_models", {"limit": 3, "sort": "price"})
    models = (listed.structured_content or {}).get("models", [])
    check(not listed.is_error and len(models) == 3, "list_models returns 3 models as structuredContent")

    cost = await session.call_tool("estimate_cost", {"model": MODEL, "prompt": "Hello there", "completion_tokens": 100})
    estimates = (cost.structured_content or {}).get("estimates", [])
    check(not cost.is_error and estimates and estimates[0]["model"] == MODEL, "estimate_cost prices the prompt")

    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    answer = await session.call_tool(
        "ask_model",
        {"model": MODEL, "prompt": "Say hello", "fallback_models": [], "cache": "bypass"},
        progress_callback=on_progress,
    )
    out = answer.structured_content or {}
    check(not answer.is_error and out.get("text") == "Hello from the fake.", f"ask_model answers ({out.get('text')!r})")
    check(out.get("model") == MODEL and out.get("attempts", [{}])[0].get("outcome") == "ok", "ask_model names the attempt")

    unknown = await session.call_tool("estimate_cost", {"model": "openai/gpt-5-mimi", "prompt": "x"})
    text = unknown.content[0].text if unknown.content else ""
    check(bool(unknown.is_error) and MODEL in text, "an unknown model is a tool error that suggests the closest id")
    print(f"  progress notifications seen: {len(progress)}")
    await resources_and_prompts(session)
    transcript = await read_json(session, f"switchboard://conversations/{out.get('conversation_id')}")
    check(transcript["messages"][-1]["content"] == "Hello from the fake.", "the answer's conversation reads back")


async def read_json(session, uri: str) -> dict:
    result = await session.read_resource(uri)
    content = result.contents[0]
    check(content.mime_type == "application/json" and hasattr(content, "text"), f"{uri} is JSON text")
    return json.loads(content.text)


async def resources_and_prompts(session) -> None:
    listed = await session.list_resources()
    check([str(r.uri) for r in listed.resources] == RESOURCES, f"resources/list ({[str(r.uri) for r in listed.resources]})")
    check(all(r.title and r.mime_type == "application/json" for r in listed.resources), "each resource has a title and a MIME type")
    templates = await session.list_resource_templates()
    check([t.uri_template for t in templates.resource_templates] == ["openrouter://models/{id}", "switchboard://answers/{id}", "switchboard://conversations/{id}"], "resources/templates/list")
    catalog = await read_json(session, "openrouter://models")
    check(any(m["id"] == MODEL for m in catalog["models"]), f"the catalog holds {MODEL}")
    record = await read_json(session, "openrouter://models/openai%2Fgpt-5-mini")
    check(record["id"] == MODEL and "prompt_price_per_m" in record, "the template reads one model's record")
    usage = await read_json(session, "switchboard://usage")
    check("days" in usage and "period" in usage, "switchboard://usage has days and the budget period")
    health = await read_json(session, "switchboard://health")
    check(health["store"]["ok"] is True and "models" in health, "switchboard://health has models and the store status")

    prompts = await session.list_prompts()
    check([p.name for p in prompts.prompts] == PROMPTS, f"prompts/list ({[p.name for p in prompts.prompts]})")
    got = await session.get_prompt("second_opinion", {"question": "Is 2 prime?", "model": MODEL})
    text = got.messages[0].content.text
    check("`ask_model`" in text and "Is 2 prime?" in text, "second_opinion leads to ask_model")
    got = await session.get_prompt("cross_check", {"claim": "The sky is green", "models": f"{MODEL},google/gemini-2.5-flash"})
    text = got.messages[0].content.text
    check("`compare_models`" in text and "The sky is green" in text, "cross_check leads to compare_models")

    ref = mcp_types.PromptReference(name="second_opinion")
    done = await session.complete(ref, {"name": "model", "value": "openai/"})
    check(MODEL in done.completion.values, f"completion/complete offers catalog ids ({done.completion.values})")


async def main() -> None:
    kind, target = sys.argv[1], sys.argv[2]
    mode = arg("--mode", "auto")
    token = arg("--token")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    print(f"python mcp client: {kind} {target} mode={mode if kind != 'sse' else '2024-11-05'}")
    if kind == "stdio":
        env = {k: os.environ[k] for k in SERVER_ENV if k in os.environ}
        params = StdioServerParameters(command=target, args=["stdio"], env=env)
        async with Client(params, mode=mode) as client:
            print(f"  protocol {client.protocol_version}, server {client.server_info.name if client.server_info else None}")
            await exercise(client)
    elif kind == "http":
        http = httpx2.AsyncClient(headers=headers, timeout=30) if headers else None
        transport = streamable_http_client(target, http_client=http) if http else target
        async with Client(transport, mode=mode) as client:
            print(f"  protocol {client.protocol_version}, server {client.server_info.name if client.server_info else None}")
            await exercise(client)
    elif kind == "sse":
        async with sse_client(target, headers=headers) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                print(f"  protocol {init.protocol_version}, server {init.server_info.name}")
                await exercise(session)
    else:
        raise SystemExit(f"unknown kind {kind}")
    print("PASSED")


asyncio.run(main())
