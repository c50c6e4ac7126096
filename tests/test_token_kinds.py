"""A new token kind is its field in usage.py and its price in pricing/model.py (issue 10, item 2).

The test makes that change to a copy of tokopt's source, as a maintainer would: it adds
OpenAI's audio input tokens, which genai-prices prices and which are a part of the input. Then
it runs the copy on a ledger that tokopt as it is wrote before the kind existed, and checks the
kind everywhere a token kind goes: the JSON intake, the ledger's column (added on opening, in
SQLite and PostgreSQL), the price (genai-prices' own for the same usage), the report's sums,
the 5-hour blocks, the export, and the catalog's prices. Were any other file to need the
kind's name, this copy would fail one of these checks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

from tokopt.ledger import Ledger
from tests.conftest import REPO

KIND = '    input_audio_tokens: int = _kind("input_audio", "audio input", part_of="input_tokens", rate="input_audio", fallback="input_tokens", bucket="input_usd")'


# A negative audio price, validated the way a pricing file's values are
SCHEMA_CHECK = """
import json
from pydantic import ValidationError
from tokopt.pricing.model import Rates
try:
    Rates.model_validate({"input": 1, "input_audio": -1})
except ValidationError as exc:
    print(json.dumps([[list(e["loc"]), e["type"]] for e in exc.errors()]))
"""


def _insert_after(path: Path, anchor: str, line: str, times: int = 1) -> None:
    """Put `line` after each line of `path` that starts with `anchor` (there must be `times`)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, text in enumerate(lines) if text.startswith(anchor)]
    assert len(hits) == times, f"{path.name}: {anchor!r} found {len(hits)} times, not {times}"
    for i in reversed(hits):
        lines.insert(i + 1, line + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def _copy_with_audio_kind(root: Path) -> Path:
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pricing").symlink_to(REPO / "pricing")  # the price data, where a source checkout has it
    package = root / "src" / "tokopt"
    # 1. usage.py: the kind
    _insert_after(package / "usage.py", "    cache_write_1h_tokens: int = _kind(", KIND)
    # 2. pricing/model.py: its price in the three price classes, and genai-prices' name for it
    model = package / "pricing" / "model.py"
    _insert_after(model, "    cache_write_1h: Decimal | None = None", "    input_audio: Decimal | None = None", times=3)
    _insert_after(model, '            "cache_write_1h": opt(decimal_ge0, self.cache_write_1h),', '            "input_audio": opt(decimal_ge0, self.input_audio),', times=3)
    _insert_after(model, '    "cache_write_1h": "cache_write_1h_mtok",', '    "input_audio": "input_audio_mtok",')
    return root / "src"


def _genai_prices(**usage: int) -> Decimal:
    from genai_prices import Usage, calc_price

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown usage key would be a warning, and a wrong price
        return calc_price(Usage(**usage), model_ref="gpt-audio", provider_id="openai").total_price


def test_a_new_token_kind_is_its_field_and_its_price(tmp_path, ledger_location):
    src = _copy_with_audio_kind(tmp_path / "copy")
    location = str(ledger_location)
    with Ledger(location, user="alice") as book:  # tokopt as it is: no column for the kind yet
        book.record(model="gpt-audio", input_tokens=1000, output_tokens=10, time="2026-11-02T10:00:00Z")

    def python(*args: str, stdin: str | None = None) -> str:
        env = {**os.environ, "PYTHONPATH": str(src)}
        done = subprocess.run([sys.executable, *args], input=stdin, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def copy(*args: str, stdin: str | None = None) -> str:
        return python("-m", "tokopt", *args, stdin=stdin)

    assert Path(python("-c", "import tokopt; print(tokopt.__file__)").strip()).is_relative_to(src)
    # a price the quick check cannot vouch for goes to the pydantic schema: it knows the new field
    assert json.loads(python("-c", SCHEMA_CHECK)) == [[["input_audio"], "greater_than_equal"]]

    record = {"model": "gpt-audio", "input": 1000, "input_audio": 400, "output": 10, "time": "2026-11-02T11:00:00Z"}
    recorded = json.loads(copy("session", "record", "--stdin", "--ledger", location, "--user", "alice", "-f", "json", stdin=json.dumps(record)))
    (row,) = recorded["records"]
    audio_cost = _genai_prices(input_tokens=1000, input_audio_tokens=400, output_tokens=10)
    assert audio_cost == Decimal("0.0144")  # 600 text tokens at $2.5/M, 400 audio at $32/M, 10 out at $10/M
    assert (row["input_audio_tokens"], Decimal(row["cost_usd"])) == (400, audio_cost)

    report = json.loads(copy("session", "report", "--ledger", location, "--user", "alice", "-f", "json"))
    total = report["total"]
    assert (total["records"], total["input_tokens"], total["input_audio_tokens"]) == (2, 2000, 400)
    assert Decimal(total["cost_usd"]) == _genai_prices(input_tokens=1000, output_tokens=10) + audio_cost

    blocks = json.loads(copy("session", "blocks", "--ledger", location, "--user", "alice", "--since", "2026-11-01", "-f", "json"))
    assert [b["input_audio_tokens"] for b in blocks["blocks"]] == [400]

    exported = list(csv.DictReader(io.StringIO(copy("session", "export", "--ledger", location, "--user", "alice", "-f", "csv"))))
    assert sorted(r["input_audio_tokens"] for r in exported) == ["0", "400"]

    (price,) = json.loads(copy("models", "gpt-audio", "-f", "json"))["models"]
    assert Decimal(price["input_audio_per_mtok_usd"]) == 32

    # tokopt as it is still reads the ledger the copy added a column to
    with Ledger(location, user="alice") as book:
        assert book.report().total.input_tokens == 2000
