"""render/ only renders: the estimate and tokenize views import nothing that parses, counts or stores.

(tokopt.inputs is not on the list: the price catalog, which the report models import, uses its glob helpers.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("tokopt.requests", "tokopt.tokens", "tokopt.ledger", "tiktoken", "sqlite3")


@pytest.mark.parametrize("view", ["tokopt.render.estimate", "tokopt.render.tokenize"])
def test_views_import_no_reading_counting_or_ledger(view):
    code = f"import sys, {view}; print(sorted(n for n in sys.modules if n.startswith({FORBIDDEN!r})))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
