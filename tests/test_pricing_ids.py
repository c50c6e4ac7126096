"""Model ids as people type them and as logs write them resolve to the right host and price.

Each id is paired with the genai-prices provider whose price it must get; the model and price
must be the ones genai-prices itself finds for that id at that provider. Hosted ids whose host
has no price are errors naming the host, never the maker's price.
"""

from __future__ import annotations

import pytest
from genai_prices.data_snapshot import get_snapshot

from tests.conftest import PRICING_DIR
from tokopt.errors import PricingError, UnknownModelError
from tokopt.pricing import HostPriceError, load_catalog

CATALOG = load_catalog(PRICING_DIR)

# (id as typed or logged, genai-prices provider that must price it, the ref genai-prices is given)
IDS: list[tuple[str, str, str]] = [
    # Anthropic, as the API and Claude Code logs write them (dated snapshots, dotted versions)
    *[(i, "anthropic", i) for i in [
        "claude-opus-5-5", "claude-opus-5", "claude-sonnet-5-5", "claude-sonnet-5", "claude-haiku-5-5",
        "claude-fable-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5-20251101",
        "claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-6", "claude-haiku-4-5-20251001", "claude-3-7-sonnet-20250219", "claude-3-5-sonnet-20241022",
        "claude-3-5-haiku-20241022", "claude-3-haiku-20240307", "claude-3-opus-20240229", "claude-sonnet-4.5",
        "claude-opus-4.1", "claude-haiku-4.5", "claude-3-7-sonnet-latest", "CLAUDE-SONNET-4-5",
    ]],
    # OpenAI, as the API and Codex logs write them
    *[(i, "openai", i) for i in [
        "gpt-6-sol", "gpt-6-luna", "gpt-6.1-sol", "gpt-5.6", "gpt-5.6-sol", "gpt-5.6-luna", "gpt-5.6-terra", "gpt-5.5",
        "gpt-5.5-2026-04-23", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.2", "gpt-5.2-20251211", "gpt-5.1",
        "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini", "gpt-5-codex", "gpt-5", "gpt-5-mini",
        "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-mini", "o3", "o3-mini",
        "o4-mini", "o1", "gpt-4-turbo", "gpt-3.5-turbo", "codex-mini-latest",
    ]],
    # Google, as the Gemini API and Gemini CLI logs write them
    *[(i, "google", i) for i in [
        "gemini-3.8-flash", "gemini-3.7-flash", "gemini-3.6-flash", "gemini-3.5-flash", "gemini-3.1-pro-preview",
        "gemini-3.1-flash-lite", "gemini-3-flash-preview", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
        "gemini-2.0-flash", "gemini-2.0-flash-001", "gemini-1.5-pro", "gemini-1.5-flash",
    ]],
    ("models/gemini-2.5-pro", "google", "gemini-2.5-pro"),
    ("models/gemini-2.5-flash", "google", "gemini-2.5-flash"),
    ("gemini/gemini-2.5-pro", "google", "gemini-2.5-pro"),
    # the other makers
    *[(i, "x-ai", i) for i in ["grok-4.7", "grok-4.6", "grok-4.5", "grok-4.20", "grok-4.3", "grok-code-fast-1", "grok-3-mini"]],
    ("xai/grok-4.5", "x-ai", "grok-4.5"),
    *[(i, "deepseek", i) for i in ["deepseek-v4-pro", "deepseek-v4-flash", "deepseek-flash", "deepseek-chat", "deepseek-reasoner"]],
    ("deepseek/deepseek-chat", "deepseek", "deepseek-chat"),
    *[(i, "mistral", i) for i in ["mistral-large-4", "mistral-large-latest", "mistral-medium-3-5", "mistral-small-latest", "codestral-2508", "devstral-2512", "magistral-medium"]],
    ("mistral/mistral-large-latest", "mistral", "mistral-large-latest"),
    ("openai/gpt-5.5", "openai", "gpt-5.5"),
    ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
    # Bedrock: model ids, inference profiles, and LiteLLM's prefix
    ("bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("us.anthropic.claude-opus-4-1-20250805-v1:0", "aws", "us.anthropic.claude-opus-4-1-20250805-v1:0"),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", "aws", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0", "aws", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("amazon.nova-pro-v1:0", "aws", "amazon.nova-pro-v1:0"),
    ("us.amazon.nova-lite-v1:0", "aws", "us.amazon.nova-lite-v1:0"),
    ("bedrock/amazon.nova-micro-v1:0", "aws", "amazon.nova-micro-v1:0"),
    ("meta.llama3-3-70b-instruct-v1:0", "aws", "meta.llama3-3-70b-instruct-v1:0"),
    # Vertex AI: model@version, and LiteLLM's prefix
    ("claude-sonnet-4-5@20250929", "google", "claude-sonnet-4-5@20250929"),
    ("claude-opus-4-1@20250805", "google", "claude-opus-4-1@20250805"),
    ("vertex_ai/claude-sonnet-4-5@20250929", "google", "claude-sonnet-4-5@20250929"),
    ("vertex_ai/gemini-2.5-pro", "google", "gemini-2.5-pro"),
    # Azure (its own prices, or genai-prices' fallback to the maker it declares)
    ("azure/gpt-5.1", "azure", "gpt-5.1"),
    ("azure/gpt-4o", "azure", "gpt-4o"),
    ("azure/gpt-4o-mini", "azure", "gpt-4o-mini"),
    ("azure_ai/deepseek-v4-pro", "azure", "deepseek-v4-pro"),
    ("azure/claude-sonnet-4-5", "azure", "claude-sonnet-4-5"),
    # OpenRouter, Groq, Together, Fireworks, Cerebras
    ("openrouter/anthropic/claude-sonnet-4.5", "openrouter", "anthropic/claude-sonnet-4.5"),
    ("openrouter/openai/gpt-4o", "openrouter", "openai/gpt-4o"),
    ("openrouter/google/gemini-2.5-pro", "openrouter", "google/gemini-2.5-pro"),
    ("openrouter/deepseek/deepseek-chat", "openrouter", "deepseek/deepseek-chat"),
    ("openrouter/meta-llama/llama-3.3-70b-instruct", "openrouter", "meta-llama/llama-3.3-70b-instruct"),
    ("groq/llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"),
    ("groq/openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b"),
    ("llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"),
    ("together/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ("fireworks_ai/accounts/fireworks/models/deepseek-v4-pro", "fireworks", "accounts/fireworks/models/deepseek-v4-pro"),
    ("accounts/fireworks/models/deepseek-v4-pro", "fireworks", "accounts/fireworks/models/deepseek-v4-pro"),
    # a host's own id for a model, as LiteLLM writes it: Fireworks' price, not DeepSeek's
    ("fireworks_ai/deepseek-v4-pro", "fireworks", "accounts/fireworks/models/deepseek-v4-pro"),
]


def test_at_least_a_hundred_ids():
    assert len(IDS) >= 100
    assert len({host for _, host, _ in IDS}) >= 12


@pytest.mark.parametrize(("typed", "provider_id", "ref"), IDS, ids=[i for i, _, _ in IDS])
def test_id_resolves_to_the_hosts_model_and_price(typed: str, provider_id: str, ref: str) -> None:
    provider, expected = get_snapshot().find_provider_model(ref, None, provider_id, None)
    model = CATALOG.get(typed)
    upstream_provider, _, upstream_model = (model.upstream or "").partition("/")
    assert upstream_provider == provider.id, model.upstream
    assert upstream_model.removesuffix(" (fallback)") == expected.id
    prices = expected.get_prices(CATALOG._now())
    base = prices.input_mtok.base if hasattr(prices.input_mtok, "base") else prices.input_mtok
    assert model.input == base


@pytest.mark.parametrize(
    ("typed", "host"),
    [
        ("azure/mistral-large-latest", "azure"),
        ("bedrock/anthropic.claude-nonexistent-v1:0", "bedrock"),
        ("deepinfra/meta-llama/Llama-3.3-70B-Instruct", "deepinfra"),
        ("vertex_ai/gpt-5.5", "vertex_ai"),
    ],
)
def test_hosted_id_without_a_host_price_is_an_error_naming_the_host(typed: str, host: str) -> None:
    with pytest.raises(HostPriceError) as info:
        CATALOG.get(typed)
    assert info.value.message.endswith(f"on {host}") and "--pricing" in (info.value.hint or "")
    assert CATALOG.find(typed) is None


def test_an_ambiguous_id_asks_for_the_host():
    with pytest.raises(PricingError, match="ambiguous model") as info:
        CATALOG.get("zai-org/glm-5.3")
    assert "name the host" in (info.value.hint or "")


def test_an_unknown_id_suggests_near_names():
    with pytest.raises(UnknownModelError) as info:
        CATALOG.get("claude-opux-5")
    assert info.value.suggestions


def test_a_hosted_price_is_the_hosts_not_the_makers():
    first_party = CATALOG.get("claude-sonnet-4-5-20250929")
    bedrock = CATALOG.get("anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert first_party.provider == "anthropic" and bedrock.provider == "bedrock"
    assert bedrock.input != first_party.input  # Bedrock's regional endpoints cost 10% more
