"""The check's report as one pull-request comment, updated in place (`tokopt check --comment`).

One of the two things in tokopt that use the network, and only when asked: it talks to the
GitHub REST API named by the workflow's environment (`GITHUB_API_URL`, which GitHub Enterprise
sets to its own host), with the token it is given, and nothing else.

- The comment is found by a hidden marker (an HTML comment GitHub does not show) among the pull
  request's comments, and edited; without one, it is created. So a pull request carries one
  report, the latest, however many times the job runs.
- A token that may not write (a pull request from a fork gets a read-only GITHUB_TOKEN) is not
  an error: the report goes to the job summary instead, and the caller says so.
- GitHub refuses a comment over 65,536 characters; the caller renders the report to fit
  (`render.check_ci.markdown(max_chars=...)`) and links the full one.

Standard library only (urllib): no dependency for four requests.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tokopt import __version__
from tokopt.errors import InputError

MARKER = "<!-- tokopt check -->"
MAX_CHARS = 65_536  # GitHub's limit on a comment's body
PER_PAGE = 100
TIMEOUT = 30  # seconds, per request


class CommentError(Exception):
    """The comment could not be posted: why, and the HTTP status if GitHub answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    @property
    def read_only(self) -> bool:
        """The token may not write to the pull request (a fork's read-only token, or missing permissions)."""
        return self.status in (401, 403, 404)


@dataclass(frozen=True)
class PullRequest:
    """Where the comment goes: the API, the repository (owner/name), the pull request number."""

    api: str
    repo: str
    number: int
    token: str
    run_url: str | None = None  # the workflow run, whose job summary has the full report


@dataclass(frozen=True)
class Posted:
    action: Literal["created", "updated"]
    id: int
    url: str | None


def pull_request(env: Mapping[str, str] = os.environ, *, token: str | None = None) -> PullRequest | None:
    """The pull request a GitHub Actions job runs for, from its environment; None when the
    event is not about a pull request. A missing token or repository is an InputError."""
    event_path = env.get("GITHUB_EVENT_PATH")
    number = _number(Path(event_path)) if event_path else None
    if number is None:
        return None
    repo = env.get("GITHUB_REPOSITORY", "")
    if "/" not in repo:
        raise InputError("--comment: GITHUB_REPOSITORY is not set (owner/name)", hint="run it in a GitHub Actions job")
    token = token or env.get("GITHUB_TOKEN") or ""
    if not token:
        raise InputError(
            "--comment needs a token that may write to pull requests: set GITHUB_TOKEN",
            hint="in a workflow: env: GITHUB_TOKEN: ${{ github.token }}, with permissions: pull-requests: write",
        )
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    run_id = env.get("GITHUB_RUN_ID")
    run_url = f"{server}/{repo}/actions/runs/{run_id}" if run_id else None
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    return PullRequest(api=api, repo=repo, number=number, token=token, run_url=run_url)


def _number(event: Path) -> int | None:
    """The pull request's number in a workflow event payload (pull_request, pull_request_target,
    or a comment on a pull request); None for other events."""
    try:
        data = json.loads(event.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"--comment: cannot read the event payload {event}: {exc}") from None
    if not isinstance(data, dict):
        return None
    pr = data.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return pr["number"]
    issue = data.get("issue")
    if isinstance(issue, dict) and isinstance(issue.get("pull_request"), dict) and isinstance(issue.get("number"), int):
        return issue["number"]
    return None


def body(markdown: str, *, marker: str = MARKER) -> str:
    """The comment's text: the marker (invisible once rendered), then the report."""
    return f"{marker}\n{markdown}"


def upsert(pr: PullRequest, text: str, *, marker: str = MARKER) -> Posted:
    """Update the pull request's comment that carries `marker` to `text`, or create it."""
    if len(text) > MAX_CHARS:
        raise ValueError(f"a comment of {len(text):,} characters is over GitHub's {MAX_CHARS:,}")
    existing = _find(pr, marker)
    if existing is not None:
        answer = _request(pr, "PATCH", f"/repos/{pr.repo}/issues/comments/{existing}", {"body": text})
        return Posted("updated", existing, _url(answer))
    answer = _request(pr, "POST", f"/repos/{pr.repo}/issues/{pr.number}/comments", {"body": text})
    return Posted("created", int(answer.get("id", 0)), _url(answer))


def _url(answer: Any) -> str | None:
    return answer.get("html_url") if isinstance(answer, dict) else None


def _find(pr: PullRequest, marker: str) -> int | None:
    """The id of the first comment whose body starts with the marker (ours, not a quote of it)."""
    page = 1
    while True:
        found = _request(pr, "GET", f"/repos/{pr.repo}/issues/{pr.number}/comments?per_page={PER_PAGE}&page={page}")
        if not isinstance(found, list):
            raise CommentError("GitHub answered the list of comments with something else")
        for comment in found:
            if isinstance(comment, dict) and str(comment.get("body") or "").startswith(marker) and isinstance(comment.get("id"), int):
                return comment["id"]
        if len(found) < PER_PAGE:
            return None
        page += 1


def _request(pr: PullRequest, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    request = urllib.request.Request(
        pr.api + path,
        data=data,
        method=method,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {pr.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"tokopt/{__version__}",
            **({"Content-Type": "application/json"} if data is not None else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise CommentError(f"GitHub answered {method} {path.split('?')[0]} with HTTP {exc.code}: {_message(exc)}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommentError(f"cannot reach {pr.api}: {reason}") from None
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise CommentError(f"GitHub answered {method} {path.split('?')[0]} with something that is not JSON") from None


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return exc.reason or "no reason given"
    message = data.get("message") if isinstance(data, dict) else None
    return str(message or exc.reason or "no reason given")[:200]


def to_job_summary(text: str, env: Mapping[str, str] = os.environ) -> Path | None:
    """Append the report to the job summary (GITHUB_STEP_SUMMARY); None outside GitHub Actions."""
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return path
