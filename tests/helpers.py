"""Assertions shared by the tests."""

from __future__ import annotations

import subprocess
import sys


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected an error message on stderr"
    assert lines[0].startswith("error: "), stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), stderr
    assert "Traceback" not in stderr
    return lines[0]


def python_output(code: str) -> str:
    """What `code` prints when a fresh interpreter runs it (`python -c`), which must exit 0."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


# A model no price data knows, priced by a user's pricing file (for repricing tests)
ACME_PRICING = """as_of = 2026-11-01
[models."acme-7"]
provider = "acme"
source = "acme's invoice"
tier = "fast"
tokenizer = { encoding = "o200k_base", factor = 1.0, source = "a guess" }
context_window = 128000
max_output = 16384
input = 2.00
output = 4.00
"""
