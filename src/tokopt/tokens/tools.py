"""OpenAI's billing of tools: definitions, tool_choice, tool calls and results, response schemas.

Every rule here is derived from published API-verified counts, kept as fixtures in
tests/data/api_verified/ with their sources (the OpenAI cookbook, hmarr/openai-chat-tokens,
pamelafox/openai-messages-token-helper, issue threads). What the rules reproduce there is
labelled exact; a shape no such case confirms is counted by the nearest rule and labelled ≈.

Tool definitions. The API shows the model its functions as TypeScript-like declarations,
appended after a blank line to the first system message (or as a system message of their own):

    # Tools

    ## functions

    namespace functions {

    // <function description>
    type <name> = (_: {
    // <property description>
    <property>?: <type>, // default: <default as JSON>
    }) => any;

    type <function without properties> = () => any;

    } // namespace functions

`?` marks a property not in `required`; string and integer are `string` and `number`, an enum
is its values as JSON joined by ` | `, an array `<items type>[]`, `anyOf` its variants joined by
` | `, a property without a type `any`. The request counts that text, less one token.
Nested objects depend on the request: with the legacy `functions` list they are indented two
spaces per level and lose their properties' descriptions; with `tools` they are not indented
and keep them.

tool_choice / function_call: "none" adds 1 token; a named function adds 4 plus its name's
tokens (`function_call`) or 7 plus them (`tool_choice`); "auto" adds nothing.

Tool results in history: a `tool` or `function` message is billed as 3 tokens, the function's
name (its `name`, or the name of the call it answers) and its content — no role, no name token.
A call in an assistant message: its name, its arguments as sent, and 3 tokens.

response_format / Responses `text.format` json_schema: the schema as compact JSON without any
`required`, `additionalProperties` and `$schema` keys, plus 9 tokens (openai-cookbook#2140, found
against billed usage; no request with its count is published, so it is always ≈).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from tokopt.requests.model import ToolDef

SECTION_HEAD = "# Tools\n\n## functions\n\nnamespace functions {\n\n"
SECTION_TAIL = "} // namespace functions"
SECTION_JOIN = "\n\n"  # between the system message's own text and the section
SECTION_ADJUST = -1  # the request counts the section one token short of its text
CHOICE_NONE = 1
CHOICE_NAMED = {"functions": 4, "tools": 7}
TOOL_CALL_TOKENS = 3  # per call in an assistant message, besides its name and arguments
TOOL_RESULT_TOKENS = 3  # per tool/function message, besides the function's name and the content
RESPONSE_SCHEMA_TOKENS = 9
RESPONSE_SCHEMA_DROPPED = frozenset({"required", "additionalProperties", "$schema"})

# Keys of a property schema the declarations are known to render or to leave out.
_KNOWN_KEYS = frozenset({"type", "description", "properties", "required", "items", "enum", "anyOf", "default", "const", "additionalProperties"})

# What a shape needs, in words for the ≈ notes.
FEATURES: dict[str, str] = {
    "function-description": "function descriptions",
    "no-function-description": "functions without a description",
    "no-parameters": "functions without parameters",
    "several-functions": "several functions",
    "property-description": "property descriptions",
    "bare-property": "properties without a description",
    "required": "required properties",
    "optional": "optional properties",
    "type-string": "string properties",
    "type-number": "number properties",
    "type-integer": "integer properties",
    "type-boolean": "boolean properties",
    "type-null": "null properties",
    "untyped": "properties without a type",
    "enum-string": "string enums",
    "enum-other": "enums of numbers or booleans",
    "default": "defaults",
    "array": "arrays",
    "array-of-objects": "arrays of objects",
    "nested-object": "nested objects",
    "nested-description": "descriptions inside nested objects",
    "empty-object": "objects without properties",
    "anyOf": "anyOf",
    "const": "const",
    "type-list": "a list of types",
    "parameters-description": "a description of the whole parameter object",
    "other-keyword": "schema keywords other than type, description, properties, required, items, enum, anyOf, default",
    "multiline-description": "descriptions of several lines",
    "strict": "strict mode",
    "non-function-tool": "tools that are not functions",
    "system-seam": "a system message",
    "no-system": "no system message",
    "developer-seam": "a developer message in place of the system message",
    "system-parts": "a system message of several parts",
    "system-not-first": "a system message after other messages",
    "choice-none": 'tool_choice "none"',
    "choice-named": "a named tool_choice",
    "choice-required": 'tool_choice "required"',
    "choice-unnamed": "a tool_choice of allowed tools or a custom tool",
    "tool-call": "a tool call in history",
    "tool-call-with-text": "a tool call with text in the same message",
    "parallel-calls": "several tool calls in one message",
    "tool-result-named": "tool results",
    "tool-result-resolved": "tool results without a name",
    "tool-result-anonymous": "tool results answering no known call",
}

# What the API-verified cases confirm: the features of every case the rules reproduce exactly,
# per request style and encoding (tests/tokens/test_api_verified.py checks this table against
# the fixtures). Definitions and tool_choice depend on the request style; history does not.
CONFIRMED: dict[tuple[str, str], frozenset[str]] = {
    # hmarr/openai-chat-tokens (gpt-3.5-turbo, 2023)
    ("functions", "cl100k_base"): frozenset(
        {
            "function-description", "no-function-description", "no-parameters", "several-functions",
            "property-description", "bare-property", "required", "optional",
            "type-string", "type-number", "type-boolean", "enum-string",
            "array", "array-of-objects", "nested-object", "nested-description", "anyOf", "const",
            "parameters-description", "system-seam", "no-system", "choice-none", "choice-named",
        }
    ),
    # the cookbook (gpt-3.5-turbo, gpt-4), pamelafox/openai-messages-token-helper, langtail's fork.
    # Not here: properties with neither description nor enum, and integer enums, which
    # pamelafox's cases count one token under the rule (five cases).
    ("tools", "cl100k_base"): frozenset(
        {
            "function-description", "no-parameters", "several-functions", "property-description",
            "required", "optional", "type-string", "type-integer", "type-boolean", "type-null", "untyped",
            "enum-string", "default", "array", "nested-object", "nested-description",
            "system-seam", "choice-none", "choice-named",
        }
    ),
    # the cookbook (gpt-4o, gpt-4o-mini)
    ("tools", "o200k_base"): frozenset(
        {"function-description", "property-description", "required", "optional", "type-string", "enum-string", "system-seam"}
    ),
}
HISTORY_CONFIRMED: dict[str, frozenset[str]] = {
    # hmarr (function messages, function_call), openai-java#5 and tiktoken-rs#40 (gpt-4)
    "cl100k_base": frozenset({"tool-call", "tool-result-named"}),
}
HISTORY_FEATURES = frozenset(
    {"tool-call", "tool-call-with-text", "parallel-calls", "tool-result-named", "tool-result-resolved", "tool-result-anonymous"}
)
# The models the cases were measured on; other models may format tools their own way.
RULE_MODELS = ("gpt-3.5-turbo", "gpt-4", "gpt-4o", "gpt-4o-mini")


def render(tools: Sequence[ToolDef], api: str, features: set[str]) -> str:
    """The tools section the model reads, for a `functions` (legacy) or `tools` request."""
    out = [SECTION_HEAD]
    if len(tools) > 1:
        features.add("several-functions")
    for tool in tools:
        if tool.kind != "function":
            # No published rendering: its JSON stands in for its declaration.
            features.add("non-function-tool")
            out.append(_compact({k: v for k, v in tool.definition.items() if k != "cache_control"}) + "\n\n")
            continue
        if tool.definition.get("strict") or (isinstance(tool.definition.get("function"), dict) and tool.definition["function"].get("strict")):
            features.add("strict")
        if tool.description:
            features.add("function-description")
            out.append(_comment(tool.description, "", features) + "\n")
        else:
            features.add("no-function-description")
        params = tool.parameters or {}
        if isinstance(params.get("description"), str):
            features.add("parameters-description")
        props = params.get("properties")
        if isinstance(props, dict) and props:
            out.append(f"type {tool.name} = (_: {{\n" + "\n".join(_properties(params, "", api, True, features)) + "\n}) => any;\n\n")
        else:
            features.add("no-parameters")
            out.append(f"type {tool.name} = () => any;\n\n")
    out.append(SECTION_TAIL)
    return "".join(out)


def _comment(text: str, indent: str, features: set[str]) -> str:
    if "\n" in text:
        features.add("multiline-description")
    return "\n".join(f"{indent}// {line}" for line in text.split("\n"))


def _properties(schema: dict[str, Any], indent: str, api: str, top: bool, features: set[str]) -> list[str]:
    required = schema.get("required")
    required = set(required) if isinstance(required, list) and all(isinstance(r, str) for r in required) else set()
    lines: list[str] = []
    for key, spec in schema["properties"].items():
        if not isinstance(spec, dict):
            features.add("other-keyword")
            spec = {}
        if set(spec) - _KNOWN_KEYS:
            features.add("other-keyword")
        desc = spec.get("description")
        if isinstance(desc, str):
            features.add("property-description" if top else "nested-description")
            if top or api == "tools":
                lines.append(_comment(desc, indent, features))
        elif "enum" not in spec:
            features.add("bare-property")
        features.add("required" if key in required else "optional")
        line = f"{indent}{key}{'' if key in required else '?'}: {_type(spec, indent, api, features)},"
        if "default" in spec:
            features.add("default")
            line += f" // default: {_compact_spaced(spec['default'])}"
        lines.append(line)
    return lines


def _type(spec: dict[str, Any], indent: str, api: str, features: set[str]) -> str:
    variants = spec.get("anyOf")
    if isinstance(variants, list):
        features.add("anyOf")
        return " | ".join(_type(v if isinstance(v, dict) else {}, indent, api, features) for v in variants)
    if "const" in spec:
        features.add("const")  # not shown: the property keeps its type
    kind = spec.get("type")
    enum = spec.get("enum")
    if isinstance(enum, list) and enum:
        features.add("enum-string" if all(isinstance(v, str) for v in enum) else "enum-other")
        return " | ".join(_compact_spaced(v) for v in enum)
    if isinstance(kind, list):
        features.add("type-list")
        return " | ".join("number" if k == "integer" else str(k) for k in kind)
    if kind == "object":
        inner = spec.get("properties")
        if not isinstance(inner, dict) or not inner:
            features.add("empty-object")
            return "object"
        features.add("nested-object")
        if api == "functions":
            nested = indent + "  "
            return "{\n" + "\n".join(_properties(spec, nested, api, False, features)) + f"\n{indent}}}"
        return "{\n" + "\n".join(_properties(spec, "", api, False, features)) + "\n}"
    if kind == "array":
        features.add("array")
        items = spec.get("items")
        if isinstance(items, dict):
            if items.get("type") == "object":
                features.add("array-of-objects")
            return _type(items, indent, api, features) + "[]"
        return "any[]"
    if kind in ("string", "number", "integer", "boolean", "null"):
        features.add(f"type-{kind}")
        return "number" if kind == "integer" else kind
    features.add("untyped" if kind is None else "other-keyword")
    return "any"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _compact_spaced(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def choice_features(choice: str | None, name: str | None) -> set[str]:
    if choice == "none":
        return {"choice-none"}
    if choice == "tool":
        return {"choice-named" if name else "choice-unnamed"}
    if choice in ("required", "any"):
        return {"choice-required"}
    return set()


def choice_tokens(choice: str | None, name: str | None, api: str, name_tokens: int) -> int:
    """What tool_choice adds: 1 for "none", a constant and the name for a named function."""
    if choice == "none":
        return CHOICE_NONE
    if choice == "tool" and name:
        return CHOICE_NAMED.get(api, CHOICE_NAMED["tools"]) + name_tokens
    return 0


def response_schema(response_format: dict[str, Any]) -> str:
    """The text counted for a json_schema response format (Chat `response_format` or Responses
    `text.format`): its schema without the keys the API leaves out."""
    inner = response_format.get("json_schema")
    schema = (inner if isinstance(inner, dict) else response_format).get("schema")
    if schema is None:
        schema = inner if isinstance(inner, dict) else response_format
    return _compact(_without(schema, RESPONSE_SCHEMA_DROPPED))


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


@functools.lru_cache(maxsize=1024)
def gaps(features: frozenset[str], api: str, model_id: str, encoding: str) -> tuple[str, ...]:
    """Why a request's tool count on this model is ≈: the shapes no API-verified case confirms."""
    if not features:
        return ()
    if model_id not in RULE_MODELS:
        return (f"tools on {model_id}: the tool rules are API-verified on {', '.join(RULE_MODELS)} only",)
    history = features & HISTORY_FEATURES
    missing = (features - history - CONFIRMED.get((api, encoding), frozenset())) | (history - HISTORY_CONFIRMED.get(encoding, frozenset()))
    if not missing:
        return ()
    style = {"functions": "a legacy 'functions' request", "tools": "a 'tools' request"}.get(api, api)
    return (f"tools ({_names(missing)}) on {encoding} models: no API-verified count for this shape in {style}",)


def _names(features: Iterable[str]) -> str:
    return ", ".join(sorted(FEATURES.get(f, f) for f in features))
