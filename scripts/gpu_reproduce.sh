#!/usr/bin/env bash
# Issue 13's accelerator run: Figure 5-right (the MNIST tutorial: original, overparameterized,
# overparameterized_l2_all, emulated) × 5 seeds, and Figure 4-right (Adam with and without depth),
# on JAX, on a machine with JAX (CUDA) but no TensorFlow and no Keras, and no network.
#
#   bash scripts/gpu_reproduce.sh fetch
#       Here, where pip works: the Keras wheel (the installed version), namex and optree for
#       CPython 3.12 manylinux x86_64 into .whl/, this package's wheel too, and the data
#       (mnist, gas_sensor_drift, gas_sensor_drift_reconstructed from ../shared/data or
#       $TF_OVERPARAM_DATA_DIR) into .gpu_data/. Both folders are git-ignored.
#   bash scripts/gpu_reproduce.sh run [--quick] [--seeds N] [--steps S] [--data-dir DIR]
#                                     [--out-root DIR] [--parts figure5_right,figure4_right]
#       On the accelerator (the device tool, carry [".whl", ".gpu_data"]): installs the wheels
#       into /tmp/site if keras is missing, sets KERAS_BACKEND=jax, runs reproduce/gpu_run.py into
#       results/figure5_right_gpu/ and results/figure4_right_gpu/ (results_quick/ with --quick),
#       writes gpu_run.json (device, versions, wall time of each part) and, if $OUT is set, packs
#       everything but the checkpoints into $OUT/gpu_results.tar.gz. GPU_REPRODUCE_BLOCK_TF=1 makes
#       `import tensorflow` fail (to rehearse the device machine on a CPU with TensorFlow).
#
# Sizing (NOT yet measured on a GPU): the full run is 4 variants × 5 seeds × 8,593 steps =
# 171,860 steps. On 2 CPU cores a step takes 0.155 s (original) and 0.49 s (emulated: one thin SVD
# of 3,136×512 per step) on TensorFlow, 4.1 s (emulated) on JAX. To fit one 10-minute device
# command the H200 would need ≈3 ms per step on average, compilation and evaluations included;
# the emulated variant's per-step SVD alone (cuSOLVER) is likely several ms. It probably does NOT
# fit in one command: run a first, short measurement (e.g. `run --seeds 1 --steps 500`), then
# choose --seeds/--steps or split by --parts across calls (each call starts from an empty
# results folder on a fresh machine; what comes back is the tar.gz).
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
    DATA="${TF_OVERPARAM_DATA_DIR:-../shared/data}"
    mkdir -p .gpu_data
    for name in mnist gas_sensor_drift gas_sensor_drift_reconstructed; do
      if [ -d "$DATA/$name" ]; then cp -r "$DATA/$name" .gpu_data/; else echo "warning: $DATA/$name not found" >&2; fi
    done
    ls -l .whl; du -sh .gpu_data
    ;;
  run)
    DATA_DIR=".gpu_data"
    ARGS=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --data-dir) DATA_DIR="$2"; shift 2 ;;
        *) ARGS+=("$1"); shift ;;
      esac
    done
    export KERAS_BACKEND=jax
    PYTHON="${PYTHON:-python3}"
    if ! "$PYTHON" -c "import keras" 2>/dev/null; then
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
      export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    fi
    PACK=()
    [ -n "${OUT:-}" ] && PACK=(--pack "$OUT")
    exec "$PYTHON" -c "import os, runpy, sys
if os.environ.get('GPU_REPRODUCE_BLOCK_TF') == '1':
    sys.modules['tensorflow'] = None
sys.argv = ['reproduce.gpu_run'] + sys.argv[1:]
runpy.run_module('reproduce.gpu_run', run_name='__main__', alter_sys=True)" \
      --data-dir "$DATA_DIR" ${ARGS[@]+"${ARGS[@]}"} ${PACK[@]+"${PACK[@]}"}
    ;;
  *)
    sed -n '2,20p' "$0"; exit 2 ;;
esac
