"""A fake OpenRouter for the interop tests, standard library only.

Serves GET /api/v1/models from tests/fixtures/models.json and answers every
POST /api/v1/chat/completions with a short streamed (SSE) answer shaped like OpenRouter's,
echoing the requested model. Prints "listening on PORT" once it is ready.

usage: python3 fake_openrouter.py [PORT]   (0 or nothing: any free port)
"""

import json
import pathlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CATALOG = (ROOT / "tests" / "fixtures" / "models.json").read_bytes()


def chunk(model: str, content: str, finish, usage=None) -> bytes:
    body = {
        "id": "gen-interop-1",
        "object": "chat.completion.chunk",
        "created": 1786465029,
        "model": model,
        "provider": "InteropProvider",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep the test output readable
        pass

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/api/v1/models"):
            self.reply(200, "application/json", CATALOG)
        else:
            self.reply(404, "application/json", b'{"error":{"code":404,"message":"not found"}}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith("/chat/completions"):
            self.reply(404, "application/json", b'{"error":{"code":404,"message":"not found"}}')
            return
        model = request.get("model", "openai/gpt-5-mini")
        usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13, "cost": 0.00002}
        body = b": OPENROUTER PROCESSING\n\n"
        body += chunk(model, "Hello from ", None)
        body += chunk(model, "the fake.", None)
        body += chunk(model, "", "stop", usage)
        body += b"data: [DONE]\n\n"
        self.reply(200, "text/event-stream", body)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
