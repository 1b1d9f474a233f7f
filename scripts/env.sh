# Sourced by the two entry scripts: create (or reuse) ./.venv and install the package into it.
# Set TF_OVERPARAM_BACKENDS=1 to also install the JAX and PyTorch backends (the test script does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when pyproject.toml (or this script) changed since the last install.
stamp=.venv/.tf_overparam_installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/env.sh -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
if [ "${TF_OVERPARAM_BACKENDS:-0}" = 1 ] && [ ! -f .venv/.tf_overparam_backends ]; then
  # torch pinned to the CPU build these machines provide; an unpinned torch pulls a multi-GB CUDA build.
  .venv/bin/python -m pip install -q "jax[cpu]" "torch==2.13.0"
  touch .venv/.tf_overparam_backends
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
