"""tokopt's prices against genai-prices' own arithmetic, digit for digit.

For several hundred (model, usage, moment, mode) cases drawn from every provider and host of
the bundled genai-prices data, `tokopt.pricing.cost` equals genai-prices' `ModelInfo.calc_price`
exactly: standard, batch, flex and priority prices, long-context tiers on both sides of their
boundary, dated price changes on both sides of their start, and off-peak hours.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from genai_prices import types as gp
from genai_prices.data import providers as GP_PROVIDERS

from tests.conftest import PRICING_DIR
from tokopt.pricing import cost as pricing_cost
from tokopt.pricing import load_catalog
from tokopt.usage import Usage

CATALOG = load_catalog(PRICING_DIR)
UTC = dt.timezone.utc
BASE_MOMENTS = [dt.datetime(2025, 6, 1, 12, tzinfo=UTC), dt.datetime(2026, 11, 30, 9, 30, tzinfo=UTC)]
MODES = {None: None, "batch": {"processing": "batch"}, "flex": {"service_tier": "flex"}, "priority": {"service_tier": "priority"}}


def _sheets(m: gp.ModelInfo) -> list[gp.ModelPrice]:
    return [m.prices] if isinstance(m.prices, gp.ModelPrice) else [c.prices for c in m.prices]


def _token_priced(m: gp.ModelInfo) -> bool:
    # tokopt bills tokens; a per-request fee (requests_kcount) is not something it counts
    return all(p.input_mtok is not None and p.requests_kcount is None for p in _sheets(m))


def _moments(m: gp.ModelInfo) -> list[dt.datetime]:
    out = list(BASE_MOMENTS)
    constraints = [c.constraint for c in m.prices] if isinstance(m.prices, list) else []
    constraints += [v.constraint for v in m.price_variants or ()]
    for c in constraints:
        if isinstance(c, gp.StartDateConstraint):
            day = dt.datetime.combine(c.start_date, dt.time(0, 0, 1), UTC)
            out += [day - dt.timedelta(seconds=2), day]
        elif isinstance(c, gp.TimeOfDateConstraint):
            start = dt.datetime.combine(dt.date(2026, 10, 1), c.start_time)
            start = start.replace(tzinfo=start.tzinfo or UTC)
            out += [start, start - dt.timedelta(microseconds=1), start + dt.timedelta(hours=1)]
    return out


def _usages(m: gp.ModelInfo) -> list[Usage]:
    out = [
        Usage(input_tokens=1234, cached_input_tokens=200, output_tokens=56),
        Usage(input_tokens=50_000, cached_input_tokens=20_000, cache_write_tokens=3_000, cache_write_1h_tokens=1_000, output_tokens=4_321),
    ]
    starts = {t.start for p in _sheets(m) for v in vars(p).values() if isinstance(v, gp.TieredPrices) for t in v.tiers}
    for start in sorted(starts):
        out += [
            Usage(input_tokens=start, cached_input_tokens=start // 4, output_tokens=999),
            Usage(input_tokens=start + 1, cached_input_tokens=start // 4, cache_write_tokens=7, output_tokens=999),
        ]
    return out


def _cases() -> list[tuple[str, str, Usage, dt.datetime, str | None]]:
    rng = random.Random(11)
    cases = []
    for provider in GP_PROVIDERS:
        models = [m for m in provider.models if _token_priced(m)]
        varied = [m for m in models if m.price_variants]
        plain = [m for m in models if not m.price_variants]
        chosen = rng.sample(varied, min(6, len(varied))) + rng.sample(plain, min(10, len(plain)))
        for m in chosen:
            modes = [None] + [name for name, ctx in MODES.items() if ctx and any(v.when == ctx for v in m.price_variants or ())]
            for mode in modes:
                for moment in _moments(m):
                    for usage in rng.sample(_usages(m), min(2, len(_usages(m)))) if mode else _usages(m):
                        cases.append((provider.id, m.id, usage, moment, mode))
    return cases


CASES = _cases()


def _genai_cost(provider_id: str, model_id: str, usage: Usage, moment: dt.datetime, mode: str | None) -> Decimal:
    provider = next(p for p in GP_PROVIDERS if p.id == provider_id)
    model = next(m for m in provider.models if m.id == model_id)
    gp_usage = gp.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens + usage.cache_write_1h_tokens,
        cache_write_1h_tokens=usage.cache_write_1h_tokens,
        output_tokens=usage.output_tokens,
    )
    return model.calc_price(gp_usage, provider, genai_request_timestamp=moment, price_context=MODES[mode]).total_price


def _tokopt_id(provider_id: str, model_id: str) -> str:
    provider = next(p for p in CATALOG.upstream.providers if p.id == provider_id)
    model = next(m for m in provider.models if m.id == model_id)
    return CATALOG._canonical(provider, model, False)[0]


def test_there_are_several_hundred_cases_across_providers_and_modes():
    assert len(CASES) >= 600
    assert len({c[0] for c in CASES}) >= 40
    modes = {c[4] for c in CASES}
    assert {None, "batch", "flex", "priority"} <= modes
    long_context = [c for c in CASES if c[2].input_tokens >= 100_000]
    assert len(long_context) >= 50


@pytest.mark.parametrize("chunk", range(8))
def test_cost_equals_genai_prices_calc_price(chunk):
    compared = 0
    for provider_id, model_id, usage, moment, mode in CASES[chunk::8]:
        expected = _genai_cost(provider_id, model_id, usage, moment, mode)
        model = CATALOG.at(moment).get(_tokopt_id(provider_id, model_id))
        got = pricing_cost.cost(model, usage, batch=mode == "batch", service_tier=mode if mode in ("flex", "priority") else None)
        assert got.total_usd == expected, (provider_id, model_id, usage, moment, mode)
        if mode in ("flex", "priority"):  # --tier: the catalog on that tier prices the model at it
            on_tier = CATALOG.on_tier(mode).at(moment).get(_tokopt_id(provider_id, model_id))
            assert on_tier.service_tier == mode and pricing_cost.cost(on_tier, usage).total_usd == expected
        compared += 1
    assert compared >= 75


def test_long_context_switches_exactly_where_genai_prices_puts_the_boundary():
    # claude-sonnet-4-5: 3/15 up to 200,000 input tokens, 6/22.50 above (genai-prices: strictly above)
    model = CATALOG.get("claude-sonnet-4-5")
    assert [t.threshold for t in model.tiers] == [200_000]
    at = pricing_cost.cost(model, Usage(input_tokens=200_000, output_tokens=1_000_000))
    above = pricing_cost.cost(model, Usage(input_tokens=200_001, output_tokens=1_000_000))
    assert not at.long_context and at.total_usd == Decimal("0.6") + Decimal(15)
    assert above.long_context and above.total_usd == Decimal("1.200006") + Decimal("22.5")
    assert at.total_usd == _genai_cost("anthropic", "claude-sonnet-4-5", Usage(input_tokens=200_000, output_tokens=1_000_000), BASE_MOMENTS[1], None)
    assert above.total_usd == _genai_cost("anthropic", "claude-sonnet-4-5", Usage(input_tokens=200_001, output_tokens=1_000_000), BASE_MOMENTS[1], None)


def test_cache_reads_count_towards_the_long_context_boundary():
    model = CATALOG.get("claude-sonnet-4-5")
    usage = Usage(input_tokens=200_001, cached_input_tokens=200_000, output_tokens=1)
    assert pricing_cost.cost(model, usage).long_context


def test_two_tier_model_uses_the_highest_tier_exceeded():
    model = CATALOG.get("openrouter/qwen/qwen3-coder-flash")
    assert [t.threshold for t in model.tiers] == [32_000, 128_000]
    for n in (32_000, 32_001, 128_000, 128_001):
        usage = Usage(input_tokens=n, output_tokens=10)
        assert pricing_cost.cost(model, usage).total_usd == _genai_cost("openrouter", "qwen/qwen3-coder-flash", usage, BASE_MOMENTS[1], None)


def test_a_price_in_force_when_the_usage_happened():
    july = CATALOG.at(dt.datetime(2026, 7, 15, 12, tzinfo=UTC)).get("gpt-5.6-luna")
    september = CATALOG.at(dt.datetime(2026, 9, 15, 12, tzinfo=UTC)).get("gpt-5.6-luna")
    assert (july.input, july.output) == (Decimal("1.00"), Decimal("6.00"))
    assert (september.input, september.output) == (Decimal("0.2"), Decimal("1.2"))


def test_off_peak_hours_are_priced_by_time_of_day():
    # deepseek-v4-pro (from 2026-08-17): 1.32 in from 01:00 to 04:00 and 06:00 to 10:00 UTC, 0.66 otherwise
    day = dt.date(2026, 10, 1)
    prices = {
        hour: CATALOG.at(dt.datetime.combine(day, dt.time(hour, 30), UTC)).get("deepseek-v4-pro").input for hour in (0, 2, 5, 7, 12)
    }
    assert prices == {0: Decimal("0.66"), 2: Decimal("1.32"), 5: Decimal("0.66"), 7: Decimal("1.32"), 12: Decimal("0.66")}


def test_a_fallback_hosted_model_has_no_batch_price():
    # Azure prices OpenAI's models through genai-prices' fallback; genai-prices gives it no variants
    model = CATALOG.get("azure/gpt-4o")
    assert model.host == "azure" and model.batch is None and not model.has_batch
    with pytest.raises(pricing_cost.NoSuchPrice, match="no batch price"):
        pricing_cost.cost(model, Usage(input_tokens=10, output_tokens=10), batch=True)


def test_every_token_priced_model_resolves_by_its_own_id():
    count = 0
    for provider in CATALOG.upstream.providers:
        for m in provider.models:
            listed = CATALOG._upstream_model(provider, m, fallback=False)
            if listed is None:
                continue
            assert CATALOG.get(listed.id).upstream == listed.upstream, listed.id
            count += 1
    assert count >= 2000


def test_costing_prices_every_standard_and_batch_case_as_genai_prices():
    # costing/ (what estimate, suggest, check and the ledger use) goes through the same arithmetic
    from tokopt import costing

    compared = 0
    for provider_id, model_id, usage, moment, mode in CASES[::3]:
        if mode not in (None, "batch"):
            continue
        model = CATALOG.at(moment).get(_tokopt_id(provider_id, model_id))
        if mode == "batch" and not model.has_batch:
            continue
        got = costing.cost_of(model, usage, batch=mode == "batch")
        assert got.total_usd == _genai_cost(provider_id, model_id, usage, moment, mode), (provider_id, model_id, usage, moment, mode)
        assert got.batch == (mode == "batch")
        compared += 1
    assert compared >= 500


def test_a_ledger_record_is_priced_at_its_own_time(tmp_path):
    # gpt-5.6-luna was cut 80% on 2026-07-30: July's record keeps July's price, September's gets the cut
    from tokopt.ledger import Ledger

    with Ledger(tmp_path / "ledger.sqlite3", user="me", catalog=CATALOG) as book:
        july = book.record(model="gpt-5.6-luna", input_tokens=100_000, output_tokens=100_000, time=dt.datetime(2026, 7, 15, 12, tzinfo=UTC))
        september = book.record(model="gpt-5.6-luna", input_tokens=100_000, output_tokens=100_000, time=dt.datetime(2026, 9, 15, 12, tzinfo=UTC))
        # deepseek-v4-pro bills 01:00-04:00 UTC at the peak price
        peak = book.record(model="deepseek-v4-pro", input_tokens=100_000, time=dt.datetime(2026, 10, 1, 2, 30, tzinfo=UTC))
        off = book.record(model="deepseek-v4-pro", input_tokens=100_000, time=dt.datetime(2026, 10, 1, 12, 30, tzinfo=UTC))
    assert july.cost_usd == Decimal("0.70") and september.cost_usd == Decimal("0.14")
    assert (peak.cost_usd, off.cost_usd) == (Decimal("0.132"), Decimal("0.066"))
    assert july.pricing_as_of == CATALOG.as_of


def test_a_forged_price_cache_is_rebuilt_not_believed(tmp_path, monkeypatch):
    # Someone who can write the cache directory (shared, or restored from a CI cache a pull
    # request wrote) but cannot read the user's key replaces the compiled price data: with the
    # old self-checksum recomputed, and with an HMAC under a key of their own. Neither is
    # unmarshalled; the data is rebuilt from genai-prices and signed again.
    import hashlib
    import hmac
    import marshal
    import os

    from tokopt import cachekey
    from tokopt.pricing import layer as layer_mod
    from tokopt.pricing import datacache, upstream

    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TOKOPT_CACHE_KEY")  # the key in this test's data directory
    info, raw = upstream.current_info(layer_mod.read_layer(PRICING_DIR).pin)
    genuine = upstream.load(info, raw)
    path = datacache.path_for(info.sha256, upstream.CACHE_FORMAT)
    signed = path.read_bytes()
    assert cachekey.verify(cachekey.user_key(), b"tokopt-genai-prices-cache", signed[32:], signed[:32])
    assert cachekey.key_path().parent == tmp_path / "tokopt-home"

    payload = marshal.dumps({"source_sha256": info.sha256, "providers": []}, 4)  # no prices at all
    for forged in (
        hashlib.sha256(payload).digest() + payload,
        hmac.new(os.urandom(32), b"tokopt-genai-prices-cache\0" + payload, hashlib.sha256).digest() + payload,
    ):
        path.write_bytes(forged)
        loaded = upstream.load(info, raw)
        assert [p.id for p in loaded.providers] == [p.id for p in genuine.providers] != []
        assert path.read_bytes() == signed  # rebuilt and signed with the user's key


def test_data_loaded_again_in_a_process_is_reused_until_its_cache_file_changes(tmp_path, monkeypatch):
    # A process that loads catalogs again and again (a server, the Python API, the test suite)
    # unpacks the price data once; a cache file written since is read and verified again.
    from tokopt.pricing import layer as layer_mod
    from tokopt.pricing import datacache, upstream

    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    info, raw = upstream.current_info(layer_mod.read_layer(PRICING_DIR).pin)
    first = upstream.load(info, raw)
    assert upstream.load(info, raw) is first
    path = datacache.path_for(info.sha256, upstream.CACHE_FORMAT)
    path.write_bytes(b"\0" * 64)  # not signed: refused, rebuilt and written again
    again = upstream.load(info, raw)
    assert again is not first and [p.id for p in again.providers] == [p.id for p in first.providers] != []
    assert upstream.load(info, raw) is again


def test_a_data_file_s_hash_is_read_from_the_signed_note_only_while_the_file_is_unchanged(tmp_path, monkeypatch):
    # The bundled data's hash is kept between runs in a note signed with the user's key, with the
    # file's inode, size and times: hashing 1.6 MB on every run cost a few ms of each estimate.
    import hashlib
    import json
    import os

    from tokopt import cachekey
    from tokopt.pricing import datacache

    monkeypatch.setenv("TOKOPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datacache, "_HASHED", {})
    data = tmp_path / "data.py"
    data.write_bytes(b"providers = []\n" * 1000)
    real = hashlib.sha256(data.read_bytes()).hexdigest()
    key = cachekey.user_key()
    assert datacache.sha256_of(data, key) == real
    note = tmp_path / "cache" / datacache.HASH_NOTE
    assert json.loads(note.read_bytes()[32:])["sha256"] == real

    def noted(sha: str, mac_key: bytes) -> None:
        payload = json.loads(note.read_bytes()[32:])
        body = json.dumps({**payload, "sha256": sha}).encode()
        note.write_bytes(cachekey.mac(mac_key, datacache.HASH_PURPOSE, body) + body)
        datacache._HASHED.clear()

    noted("a" * 64, key)  # a note signed with the key is believed: the file is not read
    assert datacache.sha256_of(data, key) == "a" * 64
    noted("b" * 64, os.urandom(32))  # signed with another key: ignored, the file is hashed
    assert datacache.sha256_of(data, key) == real
    noted("c" * 64, key)
    data.write_bytes(b"providers = [1]\n" * 1000)  # the file changed: hashed again
    assert datacache.sha256_of(data, key) == hashlib.sha256(data.read_bytes()).hexdigest()
    datacache._HASHED.clear()
    assert datacache.sha256_of(data, None) == hashlib.sha256(data.read_bytes()).hexdigest()  # no key: no note
