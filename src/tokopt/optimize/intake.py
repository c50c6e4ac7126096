"""The seam between the inputs and the rules: the counted requests, the model the calls use
today, and what the rules need counted, once per encoding.

The inputs are read and counted by the estimate pipeline's stages (`requests.read`,
`tokens.measure`): `prepare` reads them itself; `prepare_counted` takes requests already
counted, as `tokopt estimate --suggest` hands over those it priced, and only counts the
encodings they lack (`tokens.measure.count_more`), never reading or parsing again. The steps
in between: `choose_model`, `candidates` and `encodings_needed` (what rule 1 compares, and so
which encodings to count in) and `expected_outputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tokopt.config import Defaults, UserConfig
from tokopt.errors import InputError
from tokopt.inputs import EncodingErrors, Source
from tokopt.optimize.report import ChosenFrom
from tokopt.optimize.workload import Settings, TextPrompt, Workload
from tokopt.pricing import Catalog
from tokopt.pricing.model import ModelPrice
from tokopt.requests.read import AnyRequest, ReadOptions
from tokopt.tokens import measure
from tokopt.tokens.measure import AnyCounted, CountedText


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
    from tokopt.inputs.formats import InputFormat

    read = ReadOptions(InputFormat(opts.input_format), opts.keep_going, opts.errors)
    # Counted in the target's encodings when the command line names it; else only read here,
    # and counted once the requests have said which model they use.
    first = catalog.find(opts.target) if opts.target else None
    encodings = encodings_needed(first, candidates(catalog, opts, first)) if first is not None else ()
    found = measure.count_inputs(sources, encodings, options=read, keep_text=True)
    return prepare_counted([c for f in found for c in f.requests], catalog, opts)


def prepare_counted(counted: Sequence[AnyCounted], catalog: Catalog, opts: Options) -> tuple[Workload, Settings]:
    """The workload of requests already read and counted (plain texts kept with their text):
    the model the calls use today, and the encodings the rules need counted that are missing."""
    if not counted:
        raise InputError("nothing to look at: no input held a request")
    texts = [c for c in counted if isinstance(c, CountedText)]
    requests = [c for c in counted if not isinstance(c, CountedText)]
    model, model_from = choose_model(catalog, opts, [c.request for c in requests])
    looked_at = candidates(catalog, opts, model)
    encodings = encodings_needed(model, looked_at)
    measure.count_more(counted, encodings)
    work = Workload(encodings=encodings, batch=any(c.request.custom_id is not None for c in requests))
    work.texts = [TextPrompt.of(c.request.where, c.text or "", c.sums, encodings) for c in texts]
    work.requests = requests  # type: ignore[assignment]
    work.outputs, output_from = expected_outputs(texts, [c.request for c in requests], opts)
    return work, Settings(model=model, model_from=model_from, candidates=looked_at, calls=opts.calls, output_from=output_from)


def choose_model(catalog: Catalog, opts: Options, requests: Sequence[AnyRequest]) -> tuple[ModelPrice, ChosenFrom]:
    """The model the calls use today: --target-model, the first request's own model, or the
    config's first model. Nothing else knows it: an error asking for --target-model, unless the
    caller allows one named assumption (the catalog's first default)."""
    if opts.target:
        return catalog.get(opts.target), "option"
    for request in requests:
        name = request.model
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


def expected_outputs(texts: Sequence[object], requests: Sequence[AnyRequest], opts: Options) -> tuple[list[int], ChosenFrom]:
    """Each call's expected output tokens (texts first, then requests) and where they come from:
    --output-tokens, else each request's own max_tokens, else the config's or tokopt's default."""
    if opts.output_tokens is not None:
        return [opts.output_tokens] * (len(texts) + len(requests)), "option"
    own = [r.max_output_tokens for r in requests]
    outputs = [opts.default_output] * len(texts) + [o if o is not None else opts.default_output for o in own]
    return outputs, "request" if own and not texts and all(o is not None for o in own) else opts.default_output_from
