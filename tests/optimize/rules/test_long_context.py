"""Rule 8, long context: splitting a prompt below the threshold, priced at both rates."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.conftest import PRICING_DIR
from tokopt import pricing

from ..support import by_id, check_invariants, run, usd


def test_long_context_split(tmp_path: Path, reference) -> None:
    pricing_file = tmp_path / "lc.toml"
    pricing_file.write_text(
        'provider = "acme"\nas_of = 2026-01-01\nsource = "test"\n[models."acme-lc"]\ntier = "strong"\n'
        "context_window = 100000\nmax_output = 1000\ninput = 1.00\noutput = 4.00\n"
        'tokenizer = { encoding = "o200k_base", exact = true }\n'
        "long_context = { threshold = 1000, input = 2.00, output = 8.00 }\n",
        encoding="utf-8",
    )
    cat = pricing.load_catalog(PRICING_DIR, [pricing_file])
    text = "Numbers and words, 1 2 3, over and over.\n" * 300
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    report = run([path], cat, target="acme-lc", output_tokens=101, candidates=["acme-lc"])
    check_invariants(report)
    n = len(reference["o200k_base"].encode_ordinary(text))
    parts = -(-n // 1000)
    assert parts > 1
    s = by_id(report)["long-context.split"]
    before = usd(n, Decimal(2)) + usd(101, Decimal(8))
    after = sum(
        usd(n // parts + (1 if p < n % parts else 0), Decimal(1)) + usd(101 // parts + (1 if p < 101 % parts else 0), Decimal(4))
        for p in range(parts)
    )
    assert s.cost_saved_per_call == before - after
    assert f"{parts} parts" in s.title
