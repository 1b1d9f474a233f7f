#!/usr/bin/env bash
# Run the test suite. Set TF_OVERPARAM_DATA_DIR to a folder holding gas_sensor_drift/ and mnist/
# (CI points it at ../shared/data).
source "$(dirname "$0")/env.sh"
exec .venv/bin/python -m pytest "$@"
