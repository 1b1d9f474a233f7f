#!/usr/bin/env bash
# The main job: reproduce every figure of the paper into results/ (resumes if interrupted).
# Usage: bash scripts/reproduce.sh [extra args for `python -m reproduce all`, e.g. --quick]
source "$(dirname "$0")/env.sh"
exec .venv/bin/python -m reproduce all "$@"
