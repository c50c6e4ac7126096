"""The seam between the inputs and the rules: read the inputs, choose the model the calls use
today, and count what the rules need, once per encoding.

`prepare` is a few steps, each replaceable: `read` (sources to plain texts and chat requests),
`choose_model`, `candidates` and `encodings_needed` (what rule 1 compares, and so which
encodings to count in), `count` (texts and requests to a `Workload`) and `expected_outputs`.
A caller that has already read and counted the requests in `encodings_needed(...)` can build
the `Workload` itself and skip `read` and `count`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tokopt.config import Defaults, UserConfig
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.optimize.report import ChosenFrom
from tokopt.optimize.workload import Settings, Workload, text_prompt
from tokopt.pricing import Catalog
from tokopt.pricing.model import ModelPrice
from tokopt.requests.model import Request
from tokopt.tokens import billing


@dataclass
class Options:
    """What `prepare` needs besides the inputs: the command line's choices."""

    target: str | None = None  # --target-model
    candidates: Sequence[str] = ()  # --model patterns: where rule 1 looks (default: the catalog)
    any_provider: bool = False  # --any-provider: rule 1 looks beyond the model's provider and tier
    assume: bool = False  # with no model named anywhere, assume the catalog's first default (and say so)
    config_models: Sequence[str] = ()  # the user's config defaults
    output_tokens: int | None = None  # --output-tokens
    default_output: int = 500
    default_output_from: Literal["config", "default"] = "default"
    calls: int = 1000
    input_format: str = "auto"
    errors: EncodingErrors = "strict"
    keep_going: bool = False

    @classmethod
    def resolve(
        cls,
        defaults: Defaults,
        *,
        target: str | None = None,
        candidates: Sequence[str] = (),
        any_provider: bool = False,
        assume: bool = False,
        output_tokens: int | None = None,
        calls: int | None = None,
        input_format: str = "auto",
        errors: EncodingErrors = "strict",
        keep_going: bool = False,
    ) -> Options:
        """The command line's choices over the user's config defaults (a choice wins over the config, the config over tokopt's default)."""
        from tokopt import settings

        # --output-tokens stays apart: a request's own max_tokens comes between it and the config
        chosen = settings.resolve(UserConfig(defaults=defaults), calls=calls)
        return cls(
            target=target,
            candidates=candidates,
            any_provider=any_provider,
            assume=assume,
            config_models=chosen.models.value,
            output_tokens=output_tokens,
            default_output=chosen.output_tokens.value,
            default_output_from="config" if chosen.output_tokens.source == "config" else "default",
            calls=chosen.calls.value,
            input_format=input_format,
            errors=errors,
            keep_going=keep_going,
        )


def prepare(sources: Sequence[Source], catalog: Catalog, opts: Options) -> tuple[Workload, Settings]:
    """Read every input (plain text, chat requests, request and batch files, transcripts), choose
    the model the calls use today, and count what the rules need, once per encoding."""
    texts, requests = read(sources, opts)
    model, model_from = choose_model(catalog, opts, requests)
    looked_at = candidates(catalog, opts, model)
    work = count(texts, requests, encodings_needed(model, looked_at))
    work.outputs, output_from = expected_outputs(texts, requests, opts)
    return work, Settings(model=model, model_from=model_from, candidates=looked_at, calls=opts.calls, output_from=output_from)


def read(sources: Sequence[Source], opts: Options) -> tuple[list[tuple[str, str]], list[Request]]:
    """The inputs as plain texts (label, text) and chat requests; an error if there is neither."""
    from tokopt.inputs.formats import InputFormat
    from tokopt.requests.read import ReadOptions, open_inputs

    texts: list[tuple[str, str]] = []
    requests: list[Request] = []
    for item in open_inputs(sources, ReadOptions(InputFormat(opts.input_format), opts.keep_going, opts.errors)):
        for request in item.requests():
            if isinstance(request, Request):
                requests.append(request)
            else:
                texts.append((item.source.label, request.text()))
    if not texts and not requests:
        raise InputError("nothing to look at: no input held a request")
    return texts, requests


def choose_model(catalog: Catalog, opts: Options, requests: Sequence[Request]) -> tuple[ModelPrice, ChosenFrom]:
    """The model the calls use today: --target-model, the first request's own model, or the
    config's first model. Nothing else knows it: an error asking for --target-model, unless the
    caller allows one named assumption (the catalog's first default)."""
    if opts.target:
        return catalog.get(opts.target), "option"
    for request in requests:
        name = request.conversation.model
        if name:
            model = catalog.find(name)
            if model is None:
                near = catalog.suggest(name)
                hint = f"did you mean {', '.join(near)}? " if near else ""
                raise InputError(
                    f"{request.where}: the request's model '{name}' has no price in the catalog",
                    hint=hint + "choose the model with --target-model, or add its price with --pricing",
                )
            return model, "request"
    if opts.config_models:
        return catalog.select([opts.config_models[0]])[0], "config"
    defaults = catalog.defaults()
    if opts.assume and defaults:
        return defaults[0], "assumed"
    raise InputError(
        "which model do these calls use? no request names one and your config sets no models",
        hint="name it with --target-model (for example -t gpt-5.5), or set [defaults] models in your config",
    )


def candidates(catalog: Catalog, opts: Options, model: ModelPrice) -> list[ModelPrice]:
    """Where rule 1 looks for a cheaper model: the --model patterns (as named, any provider or
    tier); else the current models of the model's own provider and tier, or with --any-provider
    every current model."""
    if opts.candidates:
        return catalog.select(opts.candidates)
    current = [m for m in catalog if m.deprecated is None]
    if opts.any_provider:
        return current
    return [m for m in current if m.provider == model.provider and m.tier == model.tier]


def encodings_needed(model: ModelPrice, candidates: Sequence[ModelPrice]) -> tuple[str, ...]:
    """The encodings to count in: the model's own and those of candidates that could be cheaper."""
    encodings = {model.tokenizer.encoding}
    for m in candidates:
        # A model that charges at least as much per token both ways is not counted in another
        # encoding just to be ruled out.
        if m.tier.rank >= model.tier.rank - 1 and (m.input < model.input or m.output < model.output):
            encodings.add(m.tokenizer.encoding)
    return tuple(sorted(encodings))


def count(texts: Sequence[tuple[str, str]], requests: Sequence[Request], encodings: tuple[str, ...]) -> Workload:
    """The texts (cut into segments) and requests counted in every one of `encodings`; the
    outputs are left to `expected_outputs`."""
    work = Workload(encodings=encodings, batch=any(r.custom_id is not None for r in requests))
    work.texts = [text_prompt(label, text, encodings) for label, text in texts]
    if requests:
        work.requests = billing.count_requests(requests, encodings)
    return work


def expected_outputs(texts: Sequence[object], requests: Sequence[Request], opts: Options) -> tuple[list[int], ChosenFrom]:
    """Each call's expected output tokens (texts first, then requests) and where they come from:
    --output-tokens, else each request's own max_tokens, else the config's or tokopt's default."""
    if opts.output_tokens is not None:
        return [opts.output_tokens] * (len(texts) + len(requests)), "option"
    own = [r.conversation.max_output_tokens for r in requests]
    outputs = [opts.default_output] * len(texts) + [o if o is not None else opts.default_output for o in own]
    return outputs, "request" if own and not texts and all(o is not None for o in own) else opts.default_output_from
