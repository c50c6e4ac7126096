"""Help that reads like a manual: plain metavars (MODEL, N, PATH), never a Python type.

typer (0.29) labels an option by its annotation: `<list[str]>`, `<int range> [x>=0]`, `<bool>`
for a flag, and every choice of an Enum joined by `|`, which a narrow terminal folds in the
middle of a word. Here each parameter gets the word a manual would use: its metavar is set
once, before help or usage is drawn; a flag gets none; a long list of choices gets a word, and
the choices go into the help text (where lines break between words) unless it names them.
"""

from __future__ import annotations

from typing import Any

# metavars by the option's long name (or the argument's name), where the type alone says too little
NAMES = {
    "model": "MODEL",
    "target-model": "MODEL",
    "patterns": "MODEL",
    "provider": "PROVIDER",
    "paths": "PATH",
    "prompts": "PATH",
    "files": "FILE",
    "ledger": "LEDGER",
    "user": "USER",
    "run": "RUN",
    "name": "NAME",
    "since": "WHEN",
    "until": "WHEN",
    "time": "WHEN",
    "at": "WHEN",
    "timezone": "ZONE",
    "base": "REF",
    "encoding": "ENCODING",
    "text": "TEXT",
    "headroom": "PCT",
    "pricing": "FILE",
    "config": "FILE",
    "output-file": "FILE",
    "write": "FILE",
}
MAX_CHOICES_WIDTH = 14  # `strict|replace`; longer lists are a word, and the choices go in the help


def _long_name(param: Any) -> str:
    longs = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
    return (longs[0][2:] if longs else param.name or "value").lower()


def _choices(param: Any) -> list[str]:
    return [str(getattr(c, "value", c)) for c in (param.type_descriptor.choices or ())]


def _metavar(param: Any) -> str:
    desc = param.type_descriptor
    name = _long_name(param)
    if getattr(param, "is_flag", False) or desc.annotation is bool:
        return ""
    if desc.is_choice:
        label = "|".join(_choices(param))
        return label if len(label) <= MAX_CHOICES_WIDTH else name.split("-")[-1].upper()
    if name in NAMES:
        return NAMES[name]
    if desc.is_path:
        return "FILE" if not getattr(desc.parameter_info, "dir_okay", True) else "PATH"
    if desc.is_ranged or "int" in str(desc.annotation):
        return "N"
    return name.replace("-", "_").upper()


def _with_choices(param: Any) -> None:
    """A choice shown as a word gets its choices in the help text, unless the text names them all."""
    choices = _choices(param)
    text = param.help or ""
    if all(c in text for c in choices):
        return
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    param.help = f"{text.rstrip()} One of: {listed}.".lstrip()


def _no_range(*_: Any) -> None:
    return None


def plain(param: Any) -> None:
    """Give one typer parameter its plain metavar (once)."""
    if getattr(param, "_tokopt_plain", False) or not hasattr(param, "type_descriptor"):
        return
    param._tokopt_plain = True
    if param.metavar is None:
        word = _metavar(param)
        if param.type_descriptor.is_choice and "|" not in word:
            _with_choices(param)
        if getattr(param, "param_type_name", "") == "argument":
            _argument(param, word)
        else:
            param.metavar = word
    # the bounds of a number are for the error message, not for every line of help
    param._get_number_range_help_str = _no_range


def _argument(param: Any, word: str) -> None:
    """An argument is named by its metavar in help (`PATH...`) and usage (`[PATH]...`), with no
    type column beside it."""
    many = param.nargs != 1
    param.metavar = word + ("..." if many else "")
    shown = f"{{{word}}}" if param.required else f"[{word}]"
    param._usage_display_name = lambda: shown + ("..." if many else "")
    param.display_type_rich = lambda ctx=None: None


def install(command: Any, ctx: Any = None) -> None:
    """Plain metavars for every parameter of `command` and of its subcommands (their help
    options made now, as click would make them, so that they get theirs too)."""
    if ctx is not None and hasattr(command, "get_help_option"):
        command.get_help_option(ctx)
    for param in [*command.params, getattr(command, "_help_option", None)]:
        if param is not None:
            plain(param)
    for sub in getattr(command, "commands", {}).values():
        install(sub, ctx)
