"""A fake of MoHA's software on a real HTTP server on loopback: serves recorded pages, or fails on demand."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

RECORDED = Path(__file__).parents[1] / "intake" / "recorded"
TOKEN = secrets.token_hex(8)  # made per run: the fake server checks the client sends it


class FakeMoha:
    """Serves recorded pages; ``behaviour`` switches to failures. Counts every request."""

    def __init__(self):
        self.behaviour = "recorded"
        self.hits = 0
        self.fail_first = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's hook name
                fake.hits += 1
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, b"{}")
                url = urlparse(self.path)
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                if fake.behaviour == "500" or fake.hits <= fake.fail_first:
                    return self._send(500, b"oops")
                if fake.behaviour == "slow":
                    time.sleep(1.5)
                if fake.behaviour == "garbage":
                    return self._send(200, b"{not json")
                if fake.behaviour == "loop":
                    return self._send(
                        200, json.dumps({"items": [], "next_page": page % 2 + 1}).encode()
                    )  # 1→2→1
                if "/scores" in url.path:
                    unit = parse_qs(url.query)["unit"][0]
                    file = RECORDED / f"scores_{unit}_page{page}.json"
                    body = file.read_bytes() if file.exists() else b'{"items": [], "next_page": null}'
                else:
                    body = (RECORDED / f"respondents_page{page}.json").read_bytes()
                return self._send(200, body)

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
