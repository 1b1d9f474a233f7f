#!/usr/bin/env bash
# Run the test suite: everything on the TensorFlow backend, then the core suite (layers,
# optimizer, loss, transforms, saving, README examples, the full-batch trainer) on the JAX and
# PyTorch backends. The TensorFlow run also runs the reproduction on JAX with TensorFlow blocked.
# With arguments, runs only `pytest ARGS` on the TensorFlow backend (e.g. one file).
# TF_OVERPARAM_BACKENDS=0 skips installing and testing JAX and PyTorch (CI runs all three).
# Tests that need the real data find it through one fixture (tests/conftest.py):
# $TF_OVERPARAM_DATA_DIR if set, else ../shared/data beside the checkout.
export TF_OVERPARAM_BACKENDS=${TF_OVERPARAM_BACKENDS:-1}
source "$(dirname "$0")/env.sh"
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
CORE_TESTS="tests/test_end_to_end_ops.py tests/test_end_to_end_sgd.py tests/test_overparam_dense.py
  tests/test_overparam_conv2d.py
  tests/test_losses.py tests/test_transforms.py tests/test_saving.py tests/test_readme.py
  tests/test_ops_lp_chain.py tests/test_fullbatch.py tests/test_fullbatch_backends.py"
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
