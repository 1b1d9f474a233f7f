#!/usr/bin/env bash
# Run the tests. tests/library/ tests the installable library (tf_overparam), tests/experiments/
# the reproduction (reproduce/); helpers shared by both are in tests/helpers.py (docs/testing.md).
#
#   bash scripts/test.sh              the full lane, what CI runs (.ci/run, with CI=true): every test
#                                     on the TensorFlow backend (which also drives the JAX and
#                                     PyTorch subprocess checks, e.g. the reproduction on JAX with
#                                     TensorFlow blocked), then the core files (CORE_TESTS: layers,
#                                     optimizer, ops, loss, transforms, saving, README examples, the
#                                     full-batch trainer) on JAX and on PyTorch. About 25 minutes
#                                     on a 2-core CPU.
#   bash scripts/test.sh --fast [ARGS]  the fast lane: the library's unit tests (tests/library/) on
#                                     TensorFlow, without the tests marked `slow` (those run in
#                                     the full lane), on two processes (pytest-xdist) when there
#                                     are two cores or more. Under 3 minutes on a 2-core CPU. ARGS
#                                     are added to pytest's.
#   bash scripts/test.sh ARGS         only `pytest ARGS` (TensorFlow unless KERAS_BACKEND says
#                                     otherwise), e.g. one file: tests/library/test_losses.py -q
#
# TF_OVERPARAM_BACKENDS=0 skips installing and testing JAX and PyTorch (CI runs all three; the
# fast lane needs neither and installs them only when asked with TF_OVERPARAM_BACKENDS=1).
# Tests that need the real data find it through one fixture (tests/conftest.py):
# $TF_OVERPARAM_DATA_DIR if set, else ../shared/data beside the checkout. Where it is absent they
# skip, except under CI=true, where they fail.
fast=0
if [ "${1:-}" = --fast ]; then
  fast=1
  shift
  export TF_OVERPARAM_BACKENDS=${TF_OVERPARAM_BACKENDS:-0}
fi
export TF_OVERPARAM_BACKENDS=${TF_OVERPARAM_BACKENDS:-1}
source "$(dirname "$0")/env.sh"
if [ "$fast" = 1 ]; then
  workers=()
  if [ "$(nproc)" -ge 2 ] && .venv/bin/python -c "import xdist" 2>/dev/null; then
    workers=(-n 2)
  fi
  KERAS_BACKEND=tensorflow exec .venv/bin/python -m pytest -q -m "not slow" "${workers[@]}" \
    tests/library "$@"
fi
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
CORE_TESTS="tests/library/test_end_to_end_ops.py tests/library/test_end_to_end_sgd.py
  tests/library/test_overparam_dense.py tests/library/test_overparam_conv2d.py
  tests/library/test_losses.py tests/library/test_transforms.py tests/library/test_saving.py
  tests/library/test_readme.py tests/library/test_ops_lp_chain.py tests/library/test_fullbatch.py
  tests/library/test_fullbatch_backends.py"
status=0
backends="tensorflow jax torch"
[ "$TF_OVERPARAM_BACKENDS" = 1 ] || backends=tensorflow
for backend in $backends; do
  echo "== KERAS_BACKEND=$backend =="
  if [ "$backend" = tensorflow ]; then
    KERAS_BACKEND=$backend .venv/bin/python -m pytest || status=1
  else
    # shellcheck disable=SC2086
    KERAS_BACKEND=$backend .venv/bin/python -m pytest -q $CORE_TESTS || status=1
  fi
done
exit $status
