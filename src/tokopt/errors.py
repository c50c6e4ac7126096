"""Exit codes and the exceptions the core raises; the CLI turns them into one `error:` line."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    INTERNAL = 3


class TokoptError(Exception):
    """A problem the user can fix: bad input, bad config, unknown model."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(TokoptError):
    """A prompt, transcript or data file that cannot be read as asked."""


class PricingError(TokoptError):
    """A pricing file that does not load, or a model the catalog does not know."""


class UnknownModelError(PricingError):
    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"did you mean {', '.join(suggestions)}?" if suggestions else "run `tokopt models` to list them"
        super().__init__(f"unknown model: {name}", hint=hint)
        self.name = name
        self.suggestions = suggestions


class ConfigError(TokoptError):
    """A config file (user or project) that does not validate."""


class LedgerError(TokoptError):
    """The usage ledger cannot be opened, migrated or written."""
