#!/usr/bin/env bash
# Regenerate the shell completion scripts from the CLI; tests/test_completions.py fails when
# they are out of date. Run it with the tokopt you develop: completions/regenerate.sh
# (or TOKOPT=.venv/bin/tokopt completions/regenerate.sh). Typer's variable values are
# source_<shell>, the reverse of click's <shell>_source.
set -euo pipefail
cd "$(dirname "$0")"
tokopt="${TOKOPT:-tokopt}"
for shell in bash zsh fish; do
  _TOKOPT_COMPLETE="source_$shell" "$tokopt" > "tokopt.$shell"
done
