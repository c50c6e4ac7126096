"""The estimate pipeline: plain text and requests priced alike, totals that equal their parts, request defaults."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.chatdata import COOKBOOK_MESSAGES, write_json, write_jsonl
from tests.conftest import PRICING_DIR
from tokopt import costing, pricing, tokens
from tokopt.tokens import approx, billing
from tokopt.costing import pipeline
from tokopt.requests import parse
from tokopt.errors import InputError
from tokopt.inputs import Source
from tokopt.pricing.model import LongContext, ModelPrice, Tier, Tokenizer
from tokopt.usage import Usage


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def options(catalog, **kw) -> pipeline.Options:
    base = dict(
        selected=None,
        defaults=catalog.select(["gpt-4o", "claude-sonnet-4-5"]),
        output_tokens=None,
        default_output=500,
        default_output_from="default",
        calls=1000,
    )
    base.update(kw)
    return pipeline.Options(**base)


def src(path) -> Source:
    return Source(path.name, path, path.stat().st_size)


def model(**overrides) -> ModelPrice:
    fields = dict(
        id="m",
        provider="p",
        as_of=dt.date(2026, 7, 18),
        source="test",
        tier=Tier.strong,
        tokenizer=Tokenizer(encoding="o200k_base", exact=True),
        context_window=1_000,
        max_output=300,
        input=D("3.00"),
        cached_input=D("0.30"),
        output=D("15.00"),
        batch_input=D("1.50"),
        batch_output=D("7.50"),
        long_context=LongContext(threshold=400, input=D("6.00"), output=D("22.50"), cached_input=D("0.60")),
    )
    fields.update(overrides)
    return ModelPrice(**fields)


# --- estimate -----------------------------------------------------------------------------


def test_a_request_prices_on_its_own_model_and_max_tokens(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 256, "messages": COOKBOOK_MESSAGES})
    report = pipeline.estimate([src(path)], catalog, options(catalog))
    (row,) = report.models
    assert (row.model, row.input_tokens, row.output_tokens) == ("gpt-4o", 124, 256)
    assert report.assumptions.output_tokens_from == "request"
    assert report.assumptions.output_tokens == 256
    assert report.summaries[0].format == "openai" and report.summaries[0].request_models == ["gpt-4o"]


def test_the_command_line_wins_over_the_request(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-4o", "max_tokens": 256, "messages": COOKBOOK_MESSAGES})
    chosen = catalog.select(["gpt-4", "claude-opus-4-8"])
    report = pipeline.estimate([src(path)], catalog, options(catalog, selected=chosen, output_tokens=10))
    rows = {r.model: r for r in report.models}
    assert set(rows) == {"gpt-4", "claude-opus-4-8"}
    assert rows["gpt-4"].input_tokens == 129 and rows["gpt-4"].output_tokens == 10


def test_a_batch_file_is_the_sum_of_its_requests_at_batch_prices(tmp_path, catalog):
    rows = []
    for i in range(40):
        messages = [{"role": "system", "content": "Classify the ticket."}, {"role": "user", "content": f"Ticket {i}: " + "printer jam " * i}]
        rows.append({"custom_id": f"t{i}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "max_tokens": 5 + i, "messages": messages}})
    path = write_jsonl(tmp_path / "batch.jsonl", rows)
    seen = []
    report = pipeline.estimate([src(path)], catalog, options(catalog), on_bytes=seen.append)
    (row,) = report.models
    mini = catalog.get("gpt-4o-mini")
    expected_in = expected_cost = 0
    for r in rows:
        req = parse.parse_document(r, "x")
        (c,) = billing.count_requests([req], ["o200k_base"])
        n = c.model_input(mini).tokens
        expected_in += n
        expected_cost += costing.cost_of(mini, Usage(input_tokens=n, output_tokens=r["body"]["max_tokens"]), batch=True).total_usd
    assert row.input_tokens == expected_in
    assert row.output_tokens == sum(5 + i for i in range(40))
    assert row.cost.total_usd == expected_cost
    assert row.cost.batch and report.assumptions.batch
    summary = report.summaries[0]
    assert (summary.format, summary.requests, summary.messages, summary.batch) == ("batch", 40, 80, True)
    assert len(seen) == 40 and sum(seen) == path.stat().st_size  # read line by line


def test_unknown_request_model_is_an_error_or_a_skipped_line(tmp_path, catalog):
    path = write_json(tmp_path / "chat.json", {"model": "gpt-9-ultra", "messages": COOKBOOK_MESSAGES})
    with pytest.raises(InputError) as err:
        pipeline.estimate([src(path)], catalog, options(catalog))
    assert err.value.message == "chat.json: the request's model 'gpt-9-ultra' has no price in the catalog"
    assert "--model" in err.value.hint

    good = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    path = write_jsonl(tmp_path / "reqs.jsonl", [good, {"model": "gpt-9-ultra", "messages": []}, good])
    report = pipeline.estimate([src(path)], catalog, options(catalog, keep_going=True))
    summary = report.summaries[0]
    assert (summary.requests, summary.skipped) == (2, 1)
    assert summary.line_errors == ["reqs.jsonl:2: the request's model 'gpt-9-ultra' has no price in the catalog"]


def test_nothing_to_estimate_when_every_line_is_bad(tmp_path, catalog):
    path = tmp_path / "bad.jsonl"
    path.write_text("[1]\n[2]\n", encoding="utf-8")
    with pytest.raises(InputError, match="nothing to estimate"):
        pipeline.estimate([src(path)], catalog, options(catalog, keep_going=True))


def test_text_and_requests_together(tmp_path, catalog):
    text = tmp_path / "prompt.txt"
    text.write_text("Summarise the meeting notes.", encoding="utf-8")
    chat = write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})
    report = pipeline.estimate([src(text), src(chat)], catalog, options(catalog, per_file=True))
    assert [i.format for i in report.summaries] == ["text", "openai"]
    per_file = {f.source: {r.model: r.input_tokens for r in f.models} for f in report.per_file}
    assert per_file["chat.json"]["gpt-4o"] == 124
    plain = tokens.count("Summarise the meeting notes.", "o200k_base")
    assert per_file["prompt.txt"]["gpt-4o"] == plain  # plain text: no chat overhead, as before
    total = {r.model: r.input_tokens for r in report.models}
    assert total["gpt-4o"] == 124 + plain


def test_several_inputs_add_up_to_the_total(tmp_path, catalog):
    (tmp_path / "a.txt").write_text("word " * 100, encoding="utf-8")
    (tmp_path / "b.txt").write_text("word " * 900, encoding="utf-8")
    na, nb = (tokens.count((tmp_path / n).read_text(encoding="utf-8"), "o200k_base") for n in ("a.txt", "b.txt"))
    m = model(context_window=10_000, max_output=1_000)  # long context above 400 tokens: b only
    assert na <= 400 < nb
    report = pipeline.estimate([src(tmp_path / "a.txt"), src(tmp_path / "b.txt")], catalog, options(catalog, selected=[m], output_tokens=10, calls=3, per_file=True))
    (total,) = report.models
    parts = [f.models[0] for f in report.per_file]
    assert total.input_tokens == na + nb and total.output_tokens == 20
    assert total.cost.total_usd == sum((p.cost.total_usd for p in parts), D(0))
    assert total.total_usd == total.cost.total_usd * 3
    assert total.cost.long_context and not parts[0].cost.long_context and total.context_share == parts[1].context_share


def test_plain_text_is_one_request_of_one_message(tmp_path, catalog):
    text = "Summarise the meeting notes.\r\n日本語\n"
    (tmp_path / "p.txt").write_bytes(text.encode())
    report = pipeline.estimate([src(tmp_path / "p.txt")], catalog, options(catalog))
    assert report.plain and report.requests == 1
    (summary,) = report.summaries
    assert (summary.format, summary.requests, summary.messages, summary.request_models) == ("text", 1, 1, [])
    (count,) = report.inputs
    assert (count.chars, count.bytes, count.tokens) == (len(text), len(text.encode()), {"o200k_base": tokens.count(text, "o200k_base")})
    a = report.assumptions
    assert (a.output_tokens, a.output_tokens_from, a.batch) == (500, "default", False)
    assert {n.model: n.requests for n in report.model_notes} == {"gpt-4o": 1, "claude-sonnet-4-5": 1}
    rows = {r.model: r for r in report.models}
    assert rows["gpt-4o"].input_tokens == count.tokens["o200k_base"]
    mix = approx.classify(text)
    assert rows["claude-sonnet-4-5"].input_tokens == costing.model_tokens(catalog.get("claude-sonnet-4-5"), count.tokens, mix)
    assert rows["claude-sonnet-4-5"].approximate and not rows["gpt-4o"].approximate


def test_keep_hands_over_every_counted_request_once(tmp_path, catalog):
    (tmp_path / "p.txt").write_text("a prompt", encoding="utf-8")
    path = write_jsonl(tmp_path / "r.jsonl", [{"messages": [{"role": "user", "content": f"q{i}"}]} for i in range(3)])
    kept = []
    report = pipeline.estimate([src(tmp_path / "p.txt"), src(path)], catalog, options(catalog), keep=kept.append)
    assert len(kept) == report.requests == 4
    assert kept[0].text == "a prompt" and [c.request.line for c in kept[1:]] == [1, 2, 3]


def test_options_keep_the_requests_own_models_unless_the_command_line_chooses(catalog):
    from tokopt.config import UserConfig

    user = UserConfig.model_validate({"defaults": {"models": ["gpt-4o"], "output_tokens": 64}})
    o = pipeline.Options.resolve(catalog, user)
    assert o.selected is None and [m.id for m in o.defaults] == ["gpt-4o"]
    assert (o.default_output, o.default_output_from, o.calls) == (64, "config", 1000)
    o = pipeline.Options.resolve(catalog, user, models=["claude-opus-4-8"], output_tokens=7)
    assert [m.id for m in o.selected or []] == ["claude-opus-4-8"] and o.output_tokens == 7
    with pytest.raises(InputError, match="no models left after --provider anthropic"):
        pipeline.Options.resolve(catalog, user, providers=["anthropic"])  # the config's one model is OpenAI's


def test_the_total_of_many_inputs_is_the_same_whether_or_not_each_is_priced_on_its_own(tmp_path, catalog):
    # Without --per-file the inputs add into one total per model; with it each is priced on its
    # own as well. A chat input, and texts of which some do not fit a model.
    paths = [write_json(tmp_path / "chat.json", {"messages": COOKBOOK_MESSAGES})]
    for i in range(5):
        paths.append(tmp_path / f"p{i}.txt")
        paths[-1].write_text("word " * (50 + 400 * i), encoding="utf-8")
    small = model(context_window=1_000, max_output=1_000)
    for selected in (None, [small, *catalog.select(["gpt-4o"])]):
        alone = pipeline.estimate([src(p) for p in paths], catalog, options(catalog, selected=selected))
        each = pipeline.estimate([src(p) for p in paths], catalog, options(catalog, selected=selected, per_file=True))
        assert alone.per_file == [] and len(each.per_file) == len(paths)
        assert [r.model_dump(exclude={"problems"}) for r in alone.models] == [r.model_dump(exclude={"problems"}) for r in each.models]
        totals = {r.model: r.cost.total_usd for r in alone.models}
        for name, usd in totals.items():
            assert usd == sum((r.cost.total_usd for f in each.per_file for r in f.models if r.model == name), D(0))
    problems = next(r.problems for r in alone.models if r.model == small.id)
    assert problems and all(p.startswith(("p", "chat.json")) for p in problems) and len(problems) <= costing.CallTotals.MAX_PROBLEMS + 1


def test_many_texts_in_one_total_equal_the_sum_of_each_texts_own_estimate(tmp_path, catalog):
    # Without --per-file the texts are summed per tokenizer and each model takes the sums; a text
    # past a model's long-context tier or beyond a limit of it is priced call by call. Either
    # way each row equals the rows of the texts estimated one by one, added up, to the last digit.
    approximate = Tokenizer(encoding="o200k_base", factor=D("1.37"), low=D("1.2"), high=D("1.55"), source="test")
    selected = [
        model(),  # exact; long-context tier from 400 tokens, window 1,000
        model(id="wide", context_window=100_000, max_output=5_000, long_context=None),
        model(id="narrow", context_window=400, max_output=5_000, long_context=None),  # no tier: the window alone
        model(id="approx-a", tokenizer=approximate, context_window=100_000, long_context=None),
        model(id="approx-b", tokenizer=approximate, context_window=700, long_context=LongContext(threshold=300, input=D("4.1"), output=D("20"))),
        *catalog.select(["gpt-4o", "claude-sonnet-4-5"]),
    ]
    sizes = [3, 20, 41, 7, 90, 2, 160, 11]  # 29 to 1,285 tokens; 333 + 120 out only overflows "narrow"
    paths = []
    for i, n in enumerate(sizes):
        paths.append(tmp_path / f"p{i}.txt")
        paths[-1].write_text(f"# prompt {i}\n" + "one two, three: {four}\n" * n, encoding="utf-8")
    o = options(catalog, selected=selected, output_tokens=120, cached_tokens=64, calls=7)
    total = pipeline.estimate([src(p) for p in paths], catalog, o, sort="name")
    alone = [pipeline.estimate([src(p)], catalog, o, sort="name") for p in paths]
    assert {r.model: (r.fits, r.cost.long_context) for r in total.models} == {
        "approx-a": (True, False), "approx-b": (False, True), "claude-sonnet-4-5": (True, False),
        "gpt-4o": (True, False), "m": (False, True), "narrow": (False, False), "wide": (True, False),
    }
    for i, row in enumerate(total.models):
        parts = [a.models[i] for a in alone]
        assert {p.model for p in parts} == {row.model}
        expected = costing.combine(parts, [p.name for p in paths])
        assert row.model_dump(exclude={"source"}) == expected.model_dump(exclude={"source"})
        assert row.total_usd == sum((p.total_usd for p in parts), D(0))
    assert {n.model: n.requests for n in total.model_notes} == {m.id: len(paths) for m in selected}
