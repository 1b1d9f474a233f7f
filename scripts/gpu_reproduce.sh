#!/usr/bin/env bash
# The accelerator run: Figure 5-right (the MNIST tutorial: original, overparameterized,
# overparameterized_l2_all, emulated) × 5 seeds, and Figure 4-right (Adam with and without depth),
# on JAX, on a machine with JAX (CUDA) but no TensorFlow and no Keras, and no network.
#
#   bash scripts/gpu_reproduce.sh fetch
#       Here, where pip works: the Keras wheel (the installed version), namex and optree for
#       CPython 3.12 manylinux x86_64 into .whl/, this package's wheel too, and the data
#       (mnist, gas_sensor_drift, gas_sensor_drift_reconstructed from $TF_OVERPARAM_DATA_DIR,
#       which must be set) into .gpu_data/. Both folders are git-ignored.
#   bash scripts/gpu_reproduce.sh run [FIGURE ...] [OPTIONS of python -m reproduce]
#       On the accelerator (carry [".whl", ".gpu_data"]): installs the wheels into /tmp/site if
#       keras is missing, then runs `python -m reproduce FIGURE ... --backend jax --data-dir
#       .gpu_data --out results_gpu OPTIONS` (FIGURE default: figure5_right figure4_right), and
#       with $OUT set adds `--pack $OUT` ($OUT/results.tar.gz: the figures' folders without
#       checkpoints, and command.json with the device, versions and each part's time). The same
#       command's options apply: e.g. `--set figure5_right:seeds=1 --set figure5_right:num_steps=500`.
#       GPU_REPRODUCE_BLOCK_TF=1 makes `import tensorflow` fail (to rehearse the device machine
#       on a CPU with TensorFlow).
#
# Sizing (NOT yet measured on a GPU): the full run is 4 variants × 5 seeds × 8,593 steps =
# 171,860 steps. On 2 CPU cores a step takes 0.155 s (original) and 0.49 s (emulated: one thin SVD
# of 3,136×512 per step) on TensorFlow, 4.1 s (emulated) on JAX. To fit one 10-minute device
# command the H200 would need ≈3 ms per step on average, compilation and evaluations included;
# the emulated variant's per-step SVD alone (cuSOLVER) is likely several ms. It probably does NOT
# fit in one command: run a first, short measurement (seeds=1, num_steps=500), then choose the
# settings or split the figures across calls (each call starts from an empty results folder on a
# fresh machine; what comes back is the tar.gz).
set -euo pipefail
cd "$(dirname "$0")/.."
command="${1:-}"
shift || true

case "$command" in
  fetch)
    KERAS_VERSION="$(python3 -c 'import keras; print(keras.__version__)' 2>/dev/null || .venv/bin/python -c 'import keras; print(keras.__version__)')"
    PIP="python3 -m pip"
    [ -x .venv/bin/python ] && PIP=".venv/bin/python -m pip"
    mkdir -p .whl
    $PIP download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "keras==$KERAS_VERSION" namex optree
    $PIP wheel . --no-deps --no-build-isolation -w .whl
    DATA="${TF_OVERPARAM_DATA_DIR:?set TF_OVERPARAM_DATA_DIR to the data folder (gas_sensor_drift/, mnist/)}"
    mkdir -p .gpu_data
    for name in mnist gas_sensor_drift gas_sensor_drift_reconstructed; do
      if [ -d "$DATA/$name" ]; then cp -r "$DATA/$name" .gpu_data/; else echo "warning: $DATA/$name not found" >&2; fi
    done
    ls -l .whl; du -sh .gpu_data
    ;;
  run)
    FIGURES=()
    while [ $# -gt 0 ] && [[ "$1" != -* ]]; do FIGURES+=("$1"); shift; done
    [ ${#FIGURES[@]} -gt 0 ] || FIGURES=(figure5_right figure4_right)
    PYTHON="${PYTHON:-python3}"
    if ! "$PYTHON" -c "import keras" 2>/dev/null; then
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
      export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    fi
    PACK=()
    [ -n "${OUT:-}" ] && PACK=(--pack "$OUT")
    # Defaults first: a later --data-dir or --out among the options wins (argparse keeps the last).
    exec "$PYTHON" -c "import os, runpy, sys
if os.environ.get('GPU_REPRODUCE_BLOCK_TF') == '1':
    sys.modules['tensorflow'] = None
sys.argv = ['reproduce'] + sys.argv[1:]
runpy.run_module('reproduce', run_name='__main__', alter_sys=True)" \
      "${FIGURES[@]}" --backend jax --data-dir .gpu_data --out results_gpu ${PACK[@]+"${PACK[@]}"} "$@"
    ;;
  *)
    sed -n '2,20p' "$0"; exit 2 ;;
esac
