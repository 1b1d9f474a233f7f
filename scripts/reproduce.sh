#!/usr/bin/env bash
# The main job: reproduce every figure of the paper into results/ (resumes if interrupted).
# Usage: bash scripts/reproduce.sh [FIGURE] [--quick] [--out DIR] [--data-dir DIR]
#        FIGURE defaults to `all`; see `python -m reproduce --help`.
source "$(dirname "$0")/env.sh"
if [ "$#" -eq 0 ] || [[ "$1" == -* ]]; then
  set -- all "$@"
fi
exec .venv/bin/python -m reproduce "$@"
