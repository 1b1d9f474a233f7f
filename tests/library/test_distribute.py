"""tf.distribute: OverparamDense + EndToEndSGD give the one-device weights on several replicas.

Each configuration runs in its own process (logical devices and TF_CONFIG must be set before
TensorFlow starts), bounded in time, and is killed on failure.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = [
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow", reason="tf.distribute strategies exist only on the TensorFlow backend"
    ),
    # slow: four fresh TensorFlow processes (one device, two replicas, two workers; about 22 s)
    pytest.mark.slow,
]

WORKER = pathlib.Path(__file__).parent / "distributed" / "worker.py"
TIMEOUT_S = 240


def _env(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _run(mode, out, env=None):
    result = subprocess.run([sys.executable, str(WORKER), mode, str(out)], capture_output=True, text=True, timeout=TIMEOUT_S, env=env or _env())
    assert result.returncode == 0, result.stderr[-3000:]
    return _load(out)


def _load(path):
    data = np.load(path)
    weights = [data[f"arr_{i}"] for i in range(len(data.files) - 1)]
    return weights, int(data["replicas"])


def _assert_same_weights(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    return _run("single", tmp_path_factory.mktemp("single") / "w.npz")[0]


def test_mirrored_strategy_matches_one_device(tmp_path, single_device):
    weights, replicas = _run("mirrored", tmp_path / "w.npz")
    assert replicas == 2
    _assert_same_weights(weights, single_device)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_mirrored_strategy_matches_one_device(tmp_path, single_device):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    try:
        for index in range(2):
            tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), "multiworker", str(tmp_path / f"w{index}.npz")],
                    env=_env(TF_CONFIG=json.dumps(tf_config)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
            )
        for process in processes:
            _, stderr = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0, stderr[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for index in range(2):
        weights, replicas = _load(tmp_path / f"w{index}.npz")
        assert replicas == 2
        _assert_same_weights(weights, single_device)
