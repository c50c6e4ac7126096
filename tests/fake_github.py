"""A fake of the part of GitHub's REST API that `tokopt check --comment` uses, served on the
loopback address from a thread: list a pull request's comments (paginated), create one, edit one.

It keeps the comments in memory, records every request, answers a wrong or missing token with
401, and can play a read-only token (403 on writes, as a fork's pull request gets) or a server
error. Nothing here touches the internet.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "ghs_fake-token-for-tests"


@dataclass
class Comment:
    id: int
    body: str
    user: str = "github-actions[bot]"


@dataclass
class FakeGitHub:
    repo: str = "your-org/app"
    comments: dict[int, list[Comment]] = field(default_factory=dict)  # by issue (pull request) number
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    read_only: bool = False
    fail_with: int | None = None  # answer every request with this status
    next_id: int = 1000
    url: str = ""

    def add(self, number: int, body: str, user: str = "someone") -> Comment:
        self.next_id += 1
        comment = Comment(self.next_id, body, user)
        self.comments.setdefault(number, []).append(comment)
        return comment


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    list_or_create = re.compile(rf"^/repos/{re.escape(gh.repo)}/issues/(\d+)/comments$")
    edit = re.compile(rf"^/repos/{re.escape(gh.repo)}/issues/comments/(\d+)$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, data: Any) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else None
            url = urlparse(self.path)
            gh.requests.append((method, self.path, payload))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"message": "Bad credentials"})
            if gh.fail_with is not None:
                return self._answer(gh.fail_with, {"message": "Server Error"})
            if method != "GET" and gh.read_only:
                return self._answer(403, {"message": "Resource not accessible by integration"})
            m = list_or_create.match(url.path)
            if m and method == "GET":
                query = parse_qs(url.query)
                per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
                found = gh.comments.get(int(m[1]), [])
                chunk = found[(page - 1) * per_page : page * per_page]
                return self._answer(200, [{"id": c.id, "body": c.body, "user": {"login": c.user}} for c in chunk])
            if m and method == "POST":
                comment = gh.add(int(m[1]), payload["body"], "github-actions[bot]")
                return self._answer(201, {"id": comment.id, "body": comment.body, "html_url": f"https://github.test/c/{comment.id}"})
            m = edit.match(url.path)
            if m and method == "PATCH":
                for comments in gh.comments.values():
                    for comment in comments:
                        if comment.id == int(m[1]):
                            comment.body = payload["body"]
                            return self._answer(200, {"id": comment.id, "body": comment.body, "html_url": f"https://github.test/c/{comment.id}"})
            return self._answer(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


class Server:
    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
        gh.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self.gh

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
