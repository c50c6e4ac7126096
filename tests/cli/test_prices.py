"""`tokopt prices status|update|rollback` against an HTTP server on the loopback address.

The server serves genai-prices' JSON built from the bundled data (the shape its UpdatePrices
fetches), changed as each test needs. No test touches the internet.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import one_error_line
from tokopt.pricing import load_catalog
from tokopt.pricing.upstream import _bundled_compact


def _clause(c):
    kind, arg = c
    if kind in ("or", "and"):
        return {kind: [_clause(x) for x in arg]}
    return {kind: arg}


def _constraint(c):
    if c[0] == "date":
        return {"start_date": c[1]}
    start, end = (f"{h:02d}:{m:02d}:{s:02d}+00:00" for h, m, s, _ in (c[1], c[2]))
    return {"start_time": start, "end_time": end}


def _sheet(sheet):
    return {k: v if isinstance(v, str) else {"base": v[0], "tiers": [{"start": s, "price": p} for s, p in v[1]]} for k, v in sheet.items()}


def genai_json(compact) -> list:
    """genai-prices' published JSON (the provider list its UpdatePrices reads) from tokopt's compact form."""
    out = []
    for p in compact:
        provider = {"id": p["id"], "name": p["name"], "api_pattern": "https://example\\.invalid", "models": []}
        for key, name in (("model_match", "model_match"), ("provider_match", "provider_match")):
            if p[key] is not None:
                provider[name] = _clause(p[key])
        if p["fallback"]:
            provider["fallback_model_providers"] = list(p["fallback"])
        for m in p["models"]:
            model = {"id": m["id"], "match": _clause(m["match"]), "prices": []}
            for key in ("name", "context_window"):
                if m[key] is not None:
                    model[key] = m[key]
            for constraint, sheet in m["prices"]:
                entry = {"prices": _sheet(sheet)}
                if constraint is not None:
                    entry["constraint"] = _constraint(constraint)
                model["prices"].append(entry)
            if m["variants"]:
                model["price_variants"] = [
                    {"when": w, "prices": _sheet(s), **({"constraint": _constraint(c)} if c else {})} for w, c, s in m["variants"]
                ]
            provider["models"].append(model)
        out.append(provider)
    return out


@pytest.fixture(scope="module")
def base_data():
    return genai_json(_bundled_compact())


def _model(data, provider_id, model_id):
    provider = next(p for p in data if p["id"] == provider_id)
    return provider, next(m for m in provider["models"] if m["id"] == model_id)


class Server:
    """A loopback HTTP server: path -> (status, body, headers); counts the requests it gets."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests += 1
                status, body, headers = server.routes.get(self.path, (404, b"not found", {}))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, path: str, data, *, modified: dt.datetime | None = None, status: int = 200) -> str:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        headers = {"Content-Type": "application/json"}
        if modified is not None:
            headers["Last-Modified"] = email.utils.format_datetime(modified, usegmt=True)
        self.routes[path] = (status, body, headers)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def newer(base_data):
    """The bundled data with gpt-5.5's input price cut 20%, one model added and one removed."""
    data = copy.deepcopy(base_data)
    _, gpt = _model(data, "openai", "gpt-5.5")
    for entry in gpt["prices"]:
        value = entry["prices"]["input_mtok"]
        if isinstance(value, dict):
            value["base"] = str(Decimal(value["base"]) * Decimal("0.8"))
        else:
            entry["prices"]["input_mtok"] = str(Decimal(value) * Decimal("0.8"))
    anthropic = next(p for p in data if p["id"] == "anthropic")
    anthropic["models"].append(
        {"id": "claude-test-9", "match": {"equals": "claude-test-9"}, "context_window": 100000, "prices": [{"prices": {"input_mtok": "1", "output_mtok": "2"}}]}
    )
    groq = next(p for p in data if p["id"] == "groq")
    groq["models"] = [m for m in groq["models"] if m["id"] != "llama-3.3-70b-versatile"]
    return data


def test_status_names_the_bundled_data(run):
    r = run("prices", "status", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["label"] == "genai-prices 0.2.3 (bundled)" and doc["as_of"] == "2026-11-10"
    assert doc["age_days"] == 20 and doc["stale"] is False and doc["installed"] is False and doc["rollback_to"] is None


def test_update_shows_the_diff_installs_and_rollback_returns(run, server, base_data):
    url = server.serve("/v2/data.json", newer(base_data))
    r = run("prices", "update", "--url", url, "--yes", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["added"] == ["anthropic/claude-test-9"] and doc["removed"] == ["groq/llama-3.3-70b-versatile"]
    change = next(c for c in doc["changed"] if c["model"] == "openai/gpt-5.5")
    assert (change["field"], Decimal(change["old_per_mtok_usd"]), Decimal(change["new_per_mtok_usd"]), Decimal(change["pct"])) == ("input", 5, 4, -20)
    assert "installed" in r.stderr and server.requests == 1

    status = json.loads(run("prices", "status", "-f", "json").stdout)
    assert status["installed"] is True and url in status["label"] and status["rollback_to"] == "the bundled genai-prices data"
    estimate = json.loads(run("estimate", "-", "-m", "gpt-5.5", "-f", "json", input="hello").stdout)
    assert estimate["models"][0]["as_of"] == dt.date.today().isoformat()
    assert load_catalog().get("gpt-5.5").input == Decimal("4.0")
    assert run("models", "claude-test-9").exit_code == 0

    r = run("prices", "rollback")
    assert r.exit_code == 0 and "the bundled genai-prices data" in r.stderr
    assert load_catalog().get("gpt-5.5").input == Decimal("5")
    r = run("prices", "rollback")
    assert r.exit_code == 2 and "nothing to roll back to" in one_error_line(r.stderr)


def test_a_second_update_keeps_the_first_for_rollback(run, server, base_data, tmp_path):
    first = server.serve("/one.json", newer(base_data))
    assert run("prices", "update", "--url", first, "--yes").exit_code == 0
    second_data = newer(base_data)
    _, gpt = _model(second_data, "openai", "gpt-5.5")
    gpt["prices"] = [{"prices": {"input_mtok": "3", "output_mtok": "30"}}]
    second = server.serve("/two.json", second_data)
    r = run("prices", "update", "--url", second, "--yes")
    assert r.exit_code == 0, r.output
    assert load_catalog().get("gpt-5.5").input == Decimal("3")
    assert run("prices", "rollback").exit_code == 0
    assert load_catalog().get("gpt-5.5").input == Decimal("4.0")
    leftovers = [p.name for p in (tmp_path / "tokopt-home" / "prices").iterdir() if p.name.startswith("incoming")]
    assert leftovers == []


def test_without_yes_and_no_answer_nothing_is_installed(run, server, base_data):
    url = server.serve("/data.json", newer(base_data))
    r = run("prices", "update", "--url", url, input="")
    assert r.exit_code == 2 and "pass --yes" in r.stderr
    assert json.loads(run("prices", "status", "-f", "json").stdout)["installed"] is False
    r = run("prices", "update", "--url", url, input="n\n")
    assert r.exit_code == 0 and "nothing installed" in r.stderr
    assert json.loads(run("prices", "status", "-f", "json").stdout)["installed"] is False


@pytest.mark.parametrize("how", ["flag", "env"])
def test_offline_forbids_the_network(run, server, base_data, monkeypatch, how):
    url = server.serve("/data.json", newer(base_data))
    if how == "env":
        monkeypatch.setenv("TOKOPT_OFFLINE", "1")
    r = run("prices", "update", "--url", url, "--yes", *(["--offline"] if how == "flag" else []))
    assert r.exit_code == 2 and "the network is off" in one_error_line(r.stderr)
    assert server.requests == 0


@pytest.mark.parametrize(
    ("value", "offline"),
    [("1", True), ("yes", True), ("TRUE", True), ("on", True), ("0", False), ("false", False), (" No ", False), ("off", False), ("", False)],
)
def test_tokopt_offline_is_read_one_way(monkeypatch, value, offline):
    from tokopt import paths

    monkeypatch.setenv("TOKOPT_OFFLINE", value)
    assert paths.offline() is offline


@pytest.mark.parametrize(("value", "fetches"), [("1", False), ("true", False), ("0", True), ("false", True)])
def test_prices_update_reads_tokopt_offline_as_check_comment_does(run, server, base_data, monkeypatch, value, fetches):
    # the same values as tests/cli/test_check_comment.py::test_tokopt_offline_values
    url = server.serve("/data.json", newer(base_data))
    monkeypatch.setenv("TOKOPT_OFFLINE", value)
    r = run("prices", "update", "--url", url, "--yes")
    if fetches:
        assert r.exit_code == 0, r.output
        assert server.requests == 1
    else:
        assert r.exit_code == 2 and "the network is off" in one_error_line(r.stderr)
        assert server.requests == 0


def test_a_file_installs_without_the_network(run, base_data, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKOPT_OFFLINE", "1")
    path = tmp_path / "data.json"
    path.write_text(json.dumps(newer(base_data)), encoding="utf-8")
    r = run("prices", "update", "--file", str(path), "--yes")
    assert r.exit_code == 0, r.output
    assert load_catalog().get("gpt-5.5").input == Decimal("4.0")


def test_older_data_is_refused(run, server, base_data):
    url = server.serve("/old.json", newer(base_data), modified=dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc))
    r = run("prices", "update", "--url", url, "--yes")
    assert r.exit_code == 2 and "older than the data in use (2026-11-10): refused" in one_error_line(r.stderr)
    # and data whose newest dated price change is older than the data in use's
    stale = copy.deepcopy(base_data)
    for provider in stale:
        for model in provider["models"]:
            model["prices"] = [e for e in model["prices"] if e.get("constraint", {}).get("start_date", "") < "2026-01-01"] or model["prices"][:1]
    r = run("prices", "update", "--url", server.serve("/stale.json", stale), "--yes")
    assert r.exit_code == 2 and "newest price change" in one_error_line(r.stderr)


def test_data_more_than_ten_percent_smaller_is_refused(run, server, base_data):
    smaller = copy.deepcopy(base_data)
    openrouter = next(p for p in smaller if p["id"] == "openrouter")
    openrouter["models"] = openrouter["models"][: len(openrouter["models"]) // 2]
    r = run("prices", "update", "--url", server.serve("/small.json", smaller), "--yes")
    assert r.exit_code == 2 and "more than 10% fewer" in one_error_line(r.stderr)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b"<html>", 200, "not JSON"),
        (json.dumps({"providers": []}).encode(), 200, "expected a list of providers"),
        (json.dumps([{"id": 1, "models": "x"}]).encode(), 200, "not valid genai-prices data"),
        (b"gone", 404, "HTTP 404"),
    ],
)
def test_bad_data_is_refused_with_one_error_line(run, server, body, status, expected):
    url = server.serve("/bad.json", body, status=status)
    r = run("prices", "update", "--url", url, "--yes")
    assert r.exit_code == 2 and expected in one_error_line(r.stderr)
    assert json.loads(run("prices", "status", "-f", "json").stdout)["installed"] is False


def test_stale_data_adds_one_line_suggesting_an_update(run, monkeypatch):
    monkeypatch.setenv("TOKOPT_PRICES_AT", "2027-02-01")
    r = run("estimate", "-", "-m", "gpt-5.5", input="hello")
    assert r.exit_code == 0
    lines = [line for line in r.stderr.splitlines() if "tokopt prices update" in line]
    assert lines == ["note: prices as of 2026-11-10 are 83 days old; `tokopt prices update` fetches newer ones"]
    assert "prices as of 2026-11-10" in r.stderr  # the table's notes: stderr when stdout is not a terminal
    status = json.loads(run("prices", "status", "-f", "json").stdout)
    assert status["stale"] is True and status["age_days"] == 83


def test_at_prices_a_prompt_as_on_that_date(run):
    july = json.loads(run("estimate", "-", "-m", "gpt-5.6-luna", "--at", "2026-07-15", "-f", "json", input="hello " * 100).stdout)
    september = json.loads(run("estimate", "-", "-m", "gpt-5.6-luna", "--at", "2026-09-15T08:00:00Z", "-f", "json", input="hello " * 100).stdout)
    assert Decimal(july["models"][0]["total_usd"]) == 5 * Decimal(september["models"][0]["total_usd"])
    r = run("estimate", "-", "-m", "gpt-5.5", "--at", "soon", input="hello")
    assert r.exit_code == 2 and "--at: not a date" in one_error_line(r.stderr)


def test_check_fails_on_stale_prices_only_when_asked(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompt.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "tokopt.toml").write_text('[defaults]\nmodels = ["gpt-5.5"]\n\n[[budgets]]\nname = "p"\npaths = ["prompt.txt"]\nmax_tokens = 100\n', encoding="utf-8")
    assert run("check").exit_code == 0
    assert run("check", "--max-price-age", "30").exit_code == 0
    r = run("check", "--max-price-age", "10")
    assert r.exit_code == 1 and "20 days old" in r.stderr and "over --max-price-age 10" in r.stderr
    # a budget model with no price is an input error, not a pass
    (tmp_path / "tokopt.toml").write_text('[defaults]\nmodels = ["azure/mistral-large-latest"]\n\n[[budgets]]\nname = "p"\npaths = ["prompt.txt"]\nmax_tokens = 100\n', encoding="utf-8")
    r = run("check")
    assert r.exit_code == 2 and "no price for mistral-large-latest on azure" in r.stderr
