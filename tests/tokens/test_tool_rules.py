"""The tool rules on requests beyond the published cases: what they count, and that every shape
no API-verified case confirms is labelled ≈ — in the count, the notes and the CLI's outputs."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.chatdata import COOKBOOK_TOOL_MESSAGES, COOKBOOK_TOOLS, write_json
from tests.cli.conftest import Runner
from tests.conftest import PRICING_DIR

from tokopt import pricing
from tokopt.requests import parse
from tokopt.tokens import billing, tools


@pytest.fixture(scope="module")
def catalog():
    return pricing.load_catalog(PRICING_DIR)


def counted(request: dict, encodings=("o200k_base", "cl100k_base")) -> billing.Counted:
    (c,) = billing.count_requests([parse.parse_document(request, "t.json")], list(encodings))
    return c


def fn(name: str, properties: dict | None = None, description: str | None = "Do it", **extra) -> dict:
    function: dict = {"name": name}
    if description is not None:
        function["description"] = description
    if properties is not None:
        function["parameters"] = {"type": "object", "properties": properties, **extra}
    return {"type": "function", "function": function}


USER = [{"role": "user", "content": "hi"}]
FLAT = [fn("get_weather", {"city": {"type": "string", "description": "The city"}}, required=["city"])]


# --- the rule, recomputed with tiktoken on the prompt it describes ------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
prop = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "number", "integer", "boolean"])},
    optional={"description": text, "enum": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=1, max_size=3)},
)
function = st.fixed_dictionaries(
    {"name": st.from_regex(r"[a-z_]{1,16}", fullmatch=True), "parameters": st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), prop, max_size=4)}
    )},
    optional={"description": text},
)


@settings(max_examples=40)
@given(
    st.lists(function, min_size=1, max_size=3),
    st.one_of(st.none(), text, st.builds(lambda a, b: a * 40 + b, text, text)),  # long ones: the seam's cut
    st.sampled_from(["tools", "functions"]),
)
def test_the_tools_section_is_counted_as_the_text_the_model_reads(reference, functions, system, api):
    """The whole request is the cookbook's message formula over the messages as the model reads
    them (the tools section joined to the system text), less one token — for any schema."""
    messages = ([{"role": "system", "content": system}] if system is not None else []) + USER
    request = {"messages": messages, api: functions if api == "functions" else [{"type": "function", "function": f} for f in functions]}
    c = counted(request)
    section = tools.render(c.plan.conversation.tools, api, set())
    seen = [dict(m) for m in messages]
    if system is not None:
        seen[0]["content"] = system + "\n\n" + section
    else:
        seen.insert(0, {"role": "system", "content": section})
    for name in ("o200k_base", "cl100k_base"):
        enc = reference[name]
        n = lambda s, enc=enc: len(enc.encode(s, disallowed_special=()))  # noqa: E731
        expected = 3 + sum(3 + n(m["role"]) + n(m["content"]) for m in seen) - 1
        assert c.openai_tokens(name) == expected


LONG = "You are a careful assistant.\n\n## Rules\n- Answer in English: short, exact.\n  - Cite sources // always\n" * 40


@pytest.mark.parametrize("ending", ["", "\n", "\n\n\n", "   ", "x:", "end.", " //", "\t\n  ", "日本語の説明", "1234567", "🙂", "\n//"])
@pytest.mark.parametrize("api", ["tools", "functions"])
def test_a_long_system_prompt_joins_the_section_exactly(reference, ending, api):
    """Only the end of the system text is counted again; the total is the joined text's."""
    system = LONG + ending
    functions = [FLAT[0]["function"]]
    request = {"messages": [{"role": "system", "content": system}, *USER], api: functions if api == "functions" else FLAT}
    c = counted(request)
    section = tools.render(c.plan.conversation.tools, api, set())
    own = billing.plan(parse.parse_document(request, "t.json"), other_rules=False)
    assert own.chars == len(system) + len("hi") + len(section)  # the system text once
    for name in ("o200k_base", "cl100k_base"):
        enc = reference[name]
        n = lambda s, enc=enc: len(enc.encode(s, disallowed_special=()))  # noqa: E731
        assert c.openai_tokens(name) == 3 + (3 + n("system") + n(system + "\n\n" + section)) + (3 + n("user") + n("hi")) - 1


def test_declarations_read_as_the_api_renders_them():
    functions = [
        fn("search", {"q": {"type": "string", "description": "Query"}, "n": {"type": "integer", "default": 5}}, required=["q"]),
        fn("ping", description=None),
    ]
    section = tools.render(counted({"messages": USER, "tools": functions}).plan.conversation.tools, "tools", features := set())
    assert section == (
        "# Tools\n\n## functions\n\nnamespace functions {\n\n"
        "// Do it\ntype search = (_: {\n// Query\nq: string,\nn?: number, // default: 5\n}) => any;\n\n"
        "type ping = () => any;\n\n"
        "} // namespace functions"
    )
    assert {"several-functions", "no-function-description", "no-parameters", "default", "bare-property"} <= features


def test_nested_objects_follow_the_request_style():
    nested = {"o": {"type": "object", "description": "outer", "properties": {"i": {"type": "string", "description": "inner"}}}}
    conv = counted({"messages": USER, "tools": [fn("f", nested)]}).plan.conversation
    legacy = tools.render(conv.tools, "functions", set())
    current = tools.render(conv.tools, "tools", set())
    assert "// outer\no?: {\n  i?: string,\n}," in legacy and "inner" not in legacy
    assert "// outer\no?: {\n// inner\ni?: string,\n}," in current


def test_tool_choice_adds_what_the_api_bills(catalog, reference):
    gpt35 = catalog.get("gpt-3.5-turbo")
    name = len(reference["cl100k_base"].encode("get_weather"))
    base = {"messages": [{"role": "system", "content": "You are a bot."}], "tools": FLAT}
    auto = counted(base).model_input(gpt35).tokens
    assert counted({**base, "tool_choice": "none"}).model_input(gpt35).tokens == auto + 1
    named = counted({**base, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}).model_input(gpt35)
    assert (named.tokens, named.approximate) == (auto + 7 + name, False)
    legacy = {"messages": base["messages"], "functions": [FLAT[0]["function"]]}
    legacy_auto = counted(legacy).model_input(gpt35).tokens
    assert counted({**legacy, "function_call": {"name": "get_weather"}}).model_input(gpt35).tokens == legacy_auto + 4 + name
    required = counted({**base, "tool_choice": "required"}).model_input(gpt35)
    assert required.tokens == auto and required.approximate
    assert 'tool_choice "required"' in required.notes[0]


# --- ≈ wherever no API-verified case confirms the shape -------------------------------------------


def test_flat_tools_on_the_measured_models_are_exact(catalog):
    for model_id in tools.RULE_MODELS:
        result = counted({"messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS}).model_input(catalog.get(model_id))
        assert not result.approximate and result.notes == ()


@pytest.mark.parametrize(
    ("model_id", "request_", "named"),
    [
        # nested objects: confirmed on cl100k ('functions' and 'tools'), never measured on o200k
        ("gpt-4o", {"messages": USER, "tools": [fn("f", {"o": {"type": "object", "properties": {"i": {"type": "string", "description": "x"}}}})]}, "nested objects"),
        # a bare property in a 'tools' request: pamelafox's cases are one token under the rule
        ("gpt-3.5-turbo", {"messages": USER, "tools": [fn("f", {"q": {"type": "string"}})]}, "properties without a description"),
        ("gpt-3.5-turbo", {"messages": USER, "tools": [fn("f", {"n": {"type": "integer", "enum": [1, 2]}})]}, "enums of numbers or booleans"),
        ("gpt-4", {"messages": USER, "tools": [fn("f", {"q": {"type": "string", "description": "x", "format": "email"}})]}, "schema keywords other than"),
        ("gpt-4", {"messages": USER, "tools": [fn("f", {"q": {"type": ["string", "null"], "description": "x"}})]}, "a list of types"),
        ("gpt-4o", {"messages": [{"role": "developer", "content": "Be brief."}, *USER], "tools": FLAT}, "a developer message"),
        ("gpt-4o", {"messages": [*USER, {"role": "system", "content": "Be brief."}], "tools": FLAT}, "a system message after other messages"),
        ("gpt-4o", {"messages": USER, "tools": FLAT, "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_weather"}]}}, "allowed tools"),
        ("gpt-4o", {"messages": USER, "tools": [{"type": "function", "function": {**FLAT[0]["function"], "strict": True}}]}, "strict mode"),
        ("gpt-4o", {"messages": USER, "tools": [{"type": "custom", "name": "grammar", "description": "x"}]}, "tools that are not functions"),
        # history: confirmed on cl100k only; parallel calls and unnamed results nowhere
        ("gpt-4o", {"messages": [*USER, {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "tool", "name": "f", "tool_call_id": "a", "content": "1"}]}, "a tool call in history"),
        ("gpt-4", {"messages": [*USER, {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}, {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}]}, "several tool calls in one message"),
        ("gpt-4", {"messages": [*USER, {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "a", "content": "1"}]}, "tool results without a name"),
        ("gpt-4", {"messages": [*USER, {"role": "tool", "tool_call_id": "zzz", "content": "1"}]}, "tool results answering no known call"),
        # models the rules were not measured on
        ("gpt-4.1", {"messages": USER, "tools": FLAT}, "API-verified on gpt-3.5-turbo, gpt-4, gpt-4o, gpt-4o-mini only"),
        ("gpt-5", {"messages": USER, "tools": FLAT}, "tools on gpt-5"),
    ],
)
def test_unconfirmed_shapes_are_approximate_and_say_why(catalog, model_id, request_, named):
    result = counted(request_).model_input(catalog.get(model_id))
    assert result.approximate
    assert len(result.notes) == 1 and named in result.notes[0]


def test_tool_results_are_billed_under_the_function_name(catalog, reference):
    """openai-java#5's shape: 3 + the function's name + the content, no role, no name token."""
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}
    result_named = {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "18C"}
    c = counted({"messages": [*USER, call, result_named]})
    n = lambda s: len(reference["cl100k_base"].encode(s))  # noqa: E731
    expected = 3 + (3 + n("user") + n("hi")) + (3 + n("assistant") + n("get_weather") + n('{"city":"Paris"}') + 3) + (3 + n("get_weather") + n("18C"))
    result = c.model_input(catalog.get("gpt-4"))
    assert (result.tokens, result.approximate) == (expected, False)
    unnamed = counted({"messages": [*USER, call, {**result_named, "name": None}]}).model_input(catalog.get("gpt-4"))
    assert unnamed.tokens == expected and unnamed.approximate  # the same name, from the call it answers


# --- response schemas: always ≈ -------------------------------------------------------------------

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {"type": "object", "properties": {"t": {"type": "number"}}, "required": ["t"], "additionalProperties": False}}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
STRIPPED = '{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"array","items":{"type":"object","properties":{"t":{"type":"number"}}}}}}'


def test_a_response_schema_is_its_json_without_the_dropped_keys_plus_nine(catalog, reference):
    chat = {"messages": USER, "response_format": {"type": "json_schema", "json_schema": {"name": "w", "strict": True, "schema": SCHEMA}}}
    responses = {"input": "hi", "text": {"format": {"type": "json_schema", "name": "w", "strict": True, "schema": SCHEMA}}}
    gpt4o = catalog.get("gpt-4o")
    plain = counted({"messages": USER}).model_input(gpt4o).tokens
    for request in (chat, responses):
        c = counted(request)
        result = c.model_input(gpt4o)
        assert result.tokens == plain + len(reference["o200k_base"].encode(STRIPPED)) + 9
        assert result.approximate and any("openai-cookbook#2140" in a for a in c.plan.approximations)
    assert counted({"input": "hi", "text": {"format": {"type": "text"}}}).plan.conversation.response_format is None


def test_responses_tool_results_are_billed_under_the_call_they_answer(catalog):
    items = [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "18C"},
    ]
    chat = [
        *USER,
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18C"},
    ]
    gpt4 = catalog.get("gpt-4")
    responses = counted({"input": items})
    assert responses.plan.authors == [None, None, "get_weather"]
    assert responses.model_input(gpt4).tokens == counted({"messages": chat}).model_input(gpt4).tokens


def test_responses_function_tools_keep_their_schema(catalog):
    flat = {"type": "function", "name": "get_weather", "description": "Do it", "parameters": FLAT[0]["function"]["parameters"]}
    gpt4o = catalog.get("gpt-4o")
    chat = counted({"messages": USER, "tools": FLAT}).model_input(gpt4o)
    responses = counted({"input": "hi", "tools": [flat], "tool_choice": {"type": "function", "name": "get_weather"}})
    assert responses.plan.conversation.tools[0].parameters == FLAT[0]["function"]["parameters"]
    assert responses.plan.conversation.tool_choice_name == "get_weather"
    assert counted({"input": "hi", "tools": [flat]}).model_input(gpt4o).tokens == chat.tokens


# --- what a user sees -------------------------------------------------------------------------------


def test_estimate_marks_unconfirmed_tool_shapes_in_every_format(tmp_path):
    run = Runner()
    nested = {"model": "gpt-4o", "messages": USER, "tools": [fn("f", {"o": {"type": "object", "properties": {"i": {"type": "string", "description": "x"}}}})]}
    path = write_json(tmp_path / "nested.json", nested)
    table = run("estimate", str(path))
    assert table.exit_code == 0, table.output
    assert "≈" in table.stdout and "nested objects" in table.stderr
    markdown = run("estimate", str(path), "--format", "markdown")
    assert markdown.exit_code == 0 and "≈" in markdown.stdout and "nested objects" in markdown.stdout
    doc = run("estimate", str(path), "--format", "json")
    assert doc.exit_code == 0
    data = json.loads(doc.stdout)
    assert [m["approximate"] for m in data["models"]] == [True]
    assert any("nested objects" in a for a in data["conversations"][0]["approximations"])
    rows = list(csv.DictReader(io.StringIO(run("estimate", str(path), "--format", "csv").stdout)))
    assert [r["approximate"] for r in rows] == ["true"]
    flat = write_json(tmp_path / "flat.json", {"model": "gpt-4o", "messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS})
    exact = json.loads(run("estimate", str(flat), "--format", "json").stdout)
    assert [(m["input_tokens"], m["approximate"]) for m in exact["models"]] == [(101, False)]
    assert exact["conversations"][0]["approximations"] == []
