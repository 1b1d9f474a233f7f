"""Beyond the paper: overparameterized convolutions on MNIST and Fashion-MNIST.

`python -m reproduce conv_overparam [--quick] [--out DIR] [--data-dir DIR]` writes into DIR
(default results/conv_overparam, results_quick/conv_overparam with --quick):

    conv_overparam.png/.pdf   per data set: training cross-entropy (trailing mean) and test error
                              against steps, median over seeds with a min–max band
    conv_overparam.json       every setting, and per data set and model: final test errors per
                              seed, medians, step times, parameter counts, the collapse checks
    runs/<data>/<model>_seed<k>.json   one finished run each (written atomically; a rerun
                              skips them, so a killed run resumes at the first unfinished one)

Models, all from the TensorFlow MNIST tutorial's convnet (`reproduce.lab.mnist_tutorial.build_model`,
Keras only, so this runs on the JAX backend too): "original"; "dense" (`overparameterize(original, depth=2)`, the paper's
Appendix B.2: fc1 and fc2 become products of two matrices); "dense_conv" (conv1 and conv2 too,
`layer_types=(Dense, Conv2D)`: 5×5×1×25·25×32 and 5×5×32×64·64×64). New factors are initialized
like the layer they replace and carry no L2 term (as in Figure 5-right). After training, every
overparameterized model is folded back with `tf_overparam.collapse`: its test error must be the
trained model's and its parameter count the original's (1,663,370); both are checked and recorded.

Not the paper's recipe: Keras' SGD with momentum 0.9 at a constant rate 0.01 (the TF1
tutorial's exact optimizer and decay are Figure 5-right's job), shuffled batches of 64 drawn with
the seed, and a horizon of `num_steps` steps, far shorter than the tutorial's 8,593 (the CPU time
this run had). Every setting is in CONFIG and in the JSON.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tf_overparam  # noqa: E402
from ..lab import configs  # noqa: E402
from ..lab.data_parallel import data_parallel  # noqa: E402
from ..lab import mnist_tutorial  # noqa: E402
from ..lab.plotting import save_figure  # noqa: E402
from ..lab.plotting import style  # noqa: E402
from ..lab import runner  # noqa: E402
from ..lab.records import read_json_object  # noqa: E402
from ..lab.records import rounded  # noqa: E402
from ..lab.records import to_json  # noqa: E402
from ..lab.records import write_json  # noqa: E402
from ..lab.run_store import BadEntry  # noqa: E402

CONFIG = {
    "datasets": ["mnist", "fashion"],
    "models": ["original", "dense", "dense_conv"],
    "seeds": [0, 1, 2],
    # 600 steps (0.64 epoch): 18 runs at the measured 88 ms per training step (TensorFlow,
    # train_on_batch, this 2-core CPU) fit the ~25 CPU minutes this run had. The tutorial: 8,593.
    "num_steps": 600,
    "batch_size": 64,
    "optimizer": "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), constant rate",
    "learning_rate": 0.01,
    "momentum": 0.9,
    "depth": 2,
    "l2": 2.5e-4,  # keras L2 on fc1/fc2 kernels and biases (the tutorial's 5e-4 · l2_loss)
    "l2_on_new_factors": False,
    "weight_stddev": 0.1,  # truncated normal, every weight (the tutorial's)
    "dropout": 0.5,
    "train_size": 60000,  # all training images (no validation split: no model selection here)
    "eval_every": 50,  # test error on the first eval_size test images at these steps
    "eval_size": 1000,
    "test_size": 10000,  # final test error, and the collapse check, on all test images
    "smoothing_window": 50,  # trailing mean of the per-step batch cross-entropy
    "tutorial_num_steps": 8593,
}

QUICK = {"seeds": [0], "num_steps": 30, "train_size": 2000, "eval_every": 15, "eval_size": 500,
         "test_size": 500, "smoothing_window": 5}

LABELS = {"original": "original", "dense": "dense layers ×2 (paper)",
          "dense_conv": "dense + conv layers ×2"}
COLORS = {"original": "tab:blue", "dense": "tab:red", "dense_conv": "tab:green"}
DATA_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
ORIGINAL_PARAMS = 1_663_370
PREDICT_BATCH = 1000


def make_config(quick=False, settings=None):
    """CONFIG, or QUICK in its place with `quick`, then `settings` (`--set`)."""
    return configs.experiment_config(CONFIG, QUICK, quick, settings, replace=True, mark_quick=True)


def load_data(dataset, data_dir, config):
    """(x_train, y_train), (x_test, y_test): float32 (n, 28, 28, 1) scaled as the tutorial
    ((x − 127.5)/255), int64 labels, cut to train_size / test_size."""
    (x_train, y_train), (x_test, y_test) = tf_overparam.datasets.load_mnist(data_dir, variant=dataset)

    def scale(images):
        return ((images.astype(np.float32) - 127.5) / 255.0).reshape(-1, 28, 28, 1)

    n, m = config["train_size"], config["test_size"]
    return ((scale(x_train[:n]), y_train[:n].astype(np.int64)),
            (scale(x_test[:m]), y_test[:m].astype(np.int64)))


def build_original(seed, config):
    """The tutorial's convnet (1,663,370 parameters, logits out), every weight seeded `seed`:
    `mnist_tutorial.build_model` with this experiment's stddev, L2 factor and dropout."""
    return mnist_tutorial.build_model(seed, dropout_rate=config["dropout"], l2=config["l2"],
                                      weight_stddev=config["weight_stddev"])


def build(name, seed, config):
    keras.utils.set_random_seed(seed)
    original = build_original(seed, config)
    if name == "original":
        return original
    types = {"dense": (keras.layers.Dense,), "dense_conv": (keras.layers.Dense, keras.layers.Conv2D)}
    if name not in types:
        raise ValueError(f"`name` must be one of {sorted(['original', *types])}, got {name!r}.")
    deep = tf_overparam.overparameterize(original, depth=config["depth"], layer_types=types[name])
    if not config["l2_on_new_factors"]:
        for layer in deep.layers:
            for factor in getattr(layer, "factors", [])[1:]:
                factor.regularizer = None
    return deep


def count_params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def error_percent(model, images, labels):
    """(error in percent, logits)."""
    logits = model.predict(images, batch_size=PREDICT_BATCH, verbose=0)
    return 100.0 * float(np.mean(np.argmax(logits, axis=1) != labels)), logits


def batch_sizes(config):
    """Every batch a run feeds the model: the training batch and `error_percent`'s chunks."""
    sizes = {config["batch_size"]}
    for n in (config["eval_size"], config["test_size"]):
        sizes |= {min(n, PREDICT_BATCH), n % PREDICT_BATCH or PREDICT_BATCH}
    return sorted(sizes)


def train_one(dataset, name, seed, data, config):
    """Train one model; returns its record (per-step cross-entropy, test errors, collapse).
    Data-parallel over the local devices where the backend splits batches (JAX,
    `lab.data_parallel`); the record says over how many."""
    with data_parallel(batch_sizes(config)) as devices:
        return {**_train_one(dataset, name, seed, data, config), "devices": devices}


def _train_one(dataset, name, seed, data, config):
    (x_train, y_train), (x_test, y_test) = data
    model = build(name, seed, config)
    model.compile(
        optimizer=keras.optimizers.SGD(config["learning_rate"], momentum=config["momentum"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="ce")],
    )
    rng = np.random.default_rng(seed)
    batch, order, position = config["batch_size"], rng.permutation(len(x_train)), 0
    eval_x, eval_y = x_test[: config["eval_size"]], y_test[: config["eval_size"]]
    cross_entropy, total_loss, eval_steps, eval_errors, step_seconds = [], [], [], [], []
    for step in range(config["num_steps"] + 1):
        if step % config["eval_every"] == 0 or step == config["num_steps"]:
            eval_steps.append(step)
            eval_errors.append(error_percent(model, eval_x, eval_y)[0])
        if step == config["num_steps"]:
            break
        if position + batch > len(order):
            order, position = rng.permutation(len(x_train)), 0
        index = order[position: position + batch]
        position += batch
        start = time.perf_counter()
        logs = model.train_on_batch(x_train[index], y_train[index], return_dict=True)
        step_seconds.append(time.perf_counter() - start)
        cross_entropy.append(float(logs["ce"]))
        total_loss.append(float(logs["loss"]))
    error, logits = error_percent(model, x_test, y_test)
    record = {
        "dataset": dataset, "model": name, "seed": seed, "parameters": count_params(model),
        "cross_entropy": rounded(cross_entropy), "total_loss": rounded(total_loss),
        "eval_steps": eval_steps, "eval_errors_percent": eval_errors,
        "test_error_percent": error, "seconds_per_step_median": float(np.median(step_seconds[5:] or step_seconds)),
        "backend": keras.backend.backend(),
    }
    if name != "original":
        collapsed = tf_overparam.collapse(model)
        collapsed_error, collapsed_logits = error_percent(collapsed, x_test, y_test)
        record["collapsed"] = {
            "parameters": count_params(collapsed),
            "layers": [type(layer).__name__ for layer in collapsed.layers],
            "test_error_percent": collapsed_error,
            "max_abs_logit_difference": float(np.max(np.abs(collapsed_logits - logits))),
            "same_predictions": bool(np.array_equal(np.argmax(collapsed_logits, 1), np.argmax(logits, 1))),
        }
    return record


def smooth(values, window):
    values = np.asarray(values, np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def summarize_records(records, config):
    summary = {}
    for dataset in config["datasets"]:
        summary[dataset] = {}
        for name in config["models"]:
            runs = [records[(dataset, name, seed)] for seed in config["seeds"]]
            errors = [run["test_error_percent"] for run in runs]
            curves = [smooth(run["cross_entropy"], config["smoothing_window"]) for run in runs]
            final_ce = [float(curve[-1]) for curve in curves]
            report_steps = sorted({config["num_steps"] // 6, config["num_steps"] // 2, config["num_steps"]})
            entry = {
                "parameters": runs[0]["parameters"],
                "test_error_percent_per_seed": errors,
                "test_error_percent_median": float(np.median(errors)),
                "final_smoothed_cross_entropy_per_seed": final_ce,
                "final_smoothed_cross_entropy_median": float(np.median(final_ce)),
                "smoothed_cross_entropy_median_at": {
                    str(step): float(np.median([curve[step - 1] for curve in curves])) for step in report_steps},
                "subset_test_error_percent_median_at": {
                    str(step): float(np.median([run["eval_errors_percent"][run["eval_steps"].index(step)]
                                                for run in runs]))
                    for step in report_steps if step in runs[0]["eval_steps"]},
                "seconds_per_step_median": float(np.median([run["seconds_per_step_median"] for run in runs])),
            }
            if name != "original":
                collapsed = [run["collapsed"] for run in runs]
                entry["collapsed"] = {
                    "parameters": sorted({c["parameters"] for c in collapsed}),
                    "test_error_percent_per_seed": [c["test_error_percent"] for c in collapsed],
                    "identical_test_error": all(c["test_error_percent"] == e for c, e in zip(collapsed, errors)),
                    "max_abs_logit_difference": max(c["max_abs_logit_difference"] for c in collapsed),
                }
            summary[dataset][name] = entry
    return summary


def plot(results, config, context, out_dir):
    datasets, models = config["datasets"], config["models"]
    with style():
        figure, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.6 * len(datasets)), squeeze=False)
        for row, dataset in enumerate(datasets):
            for name in models:
                drawn = results["curves"][dataset][name]
                for ax, x, key in ((axes[row, 0], drawn["steps"], "cross_entropy"),
                                   (axes[row, 1], drawn["eval_steps"], "eval_error")):
                    ax.plot(x, drawn[f"{key}_median"], color=COLORS[name], label=LABELS[name])
                    ax.fill_between(x, drawn[f"{key}_min"], drawn[f"{key}_max"], color=COLORS[name],
                                    alpha=0.18, lw=0)
            axes[row, 0].set(yscale="log", xlabel="step", ylabel="training cross-entropy",
                             title=f"{DATA_NAMES[dataset]}: batch cross-entropy "
                                   f"(trailing mean of {config['smoothing_window']})")
            axes[row, 1].set(xlabel="step", ylabel="test error (%)", yscale="log",
                             title=f"{DATA_NAMES[dataset]}: error on the first {config['eval_size']} test images")
            axes[row, 0].legend()
            note = f"median and min–max over {len(config['seeds'])} seed(s)"
            axes[row, 1].text(0.98, 0.95, note, transform=axes[row, 1].transAxes, ha="right", va="top", fontsize=8)
        figure.suptitle(f"Tutorial convnet, SGD momentum 0.9, lr 0.01, {config['num_steps']} steps "
                        f"(the tutorial trains {config['tutorial_num_steps']})", fontsize=10)
        figure.tight_layout()
        save_figure(figure, pathlib.Path(out_dir) / "conv_overparam")


class ConvRun:
    """One (data set, model, seed) training run as a value: stored as its JSON record at
    OUT/runs/<data set>/<model>_seed<k>.json (atomic; validated when read: unreadable or made
    with other settings → moved to rejected/ beside it, trained again)."""

    kind = "convnet record"
    parallel = False  # trains a Keras model: one at a time
    cost = 1.0

    def __init__(self, dataset, name, seed, config, context):
        self.dataset, self.name, self.seed, self.config, self.context = dataset, name, seed, config, context
        self.label = f"{dataset} {name} seed {seed}"
        self.key = f"{dataset}/{name}_seed{seed}"
        self.path = pathlib.Path(context["out_dir"]) / "runs" / dataset / f"{name}_seed{seed}.json"

    def stored_at(self, store):
        return self.path

    def read(self, store):
        record = read_json_object(self.path, "record (training again)")
        if record is None:
            return None
        if record.get("config") != self.config:
            raise BadEntry("made with other settings; training again")
        return {**record, "info": {}}

    def write(self, store, result):
        write_json(self.path, {k: v for k, v in result.items() if k != "info"})

    def compute(self, name=""):
        data = self.context["data"].get(self.dataset)
        if data is None:
            data = self.context["data"][self.dataset] = load_data(self.dataset, self.context["data_dir"],
                                                                  self.config)
        start = time.perf_counter()
        record = {**train_one(self.dataset, self.name, self.seed, data, self.config), "config": self.config}
        print(f"   {self.label}: test error {record['test_error_percent']:.2f}% "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        return {**json.loads(json.dumps(to_json(record))), "info": {"total_time_s": time.perf_counter() - start}}

    def record(self, result, curves=True):
        if result["info"].get("cached"):
            print(f"   {self.label}: complete, kept", flush=True)
        return "runs", {"test_error_percent": result["test_error_percent"],
                        "parameters": result["parameters"], "info": result["info"]}


def prepare(config, data_dir, store, out_dir):
    """Where the runs live, and the data only if a run must be trained (checked here, before
    anything is written: a missing data set leaves no folder behind)."""
    context = {"out_dir": pathlib.Path(out_dir), "data_dir": data_dir, "data": {}}
    for run in runs(config, context, {}).values():
        if run.dataset not in context["data"] and store.load(run) is None:
            context["data"][run.dataset] = load_data(run.dataset, data_dir, config)
    return context


def header(context) -> dict:
    import keras

    return {"backend": keras.backend.backend()}


def runs(config, context, done) -> dict:
    return {(dataset, name, seed): ConvRun(dataset, name, seed, config, context)
            for dataset in config["datasets"] for seed in config["seeds"] for name in config["models"]}


def summarize(config, context, runs, done) -> dict:
    return {**summarize_records(done, config), "curves": curves(done, config)}


def curves(records, config) -> dict:
    """What the figure draws, per data set and model: the smoothed cross-entropy and the subset
    test error against steps, median and range over seeds."""
    out = {}
    for dataset in config["datasets"]:
        for name in config["models"]:
            runs_ = [records[(dataset, name, seed)] for seed in config["seeds"]]
            smoothed = np.array([smooth(run["cross_entropy"], config["smoothing_window"]) for run in runs_])
            errors = np.array([run["eval_errors_percent"] for run in runs_])
            out.setdefault(dataset, {})[name] = {
                "steps": np.arange(1, smoothed.shape[1] + 1), "eval_steps": runs_[0]["eval_steps"],
                **{f"cross_entropy_{k}": rounded(f(smoothed, axis=0), 8)
                   for k, f in (("median", np.median), ("min", np.min), ("max", np.max))},
                **{f"eval_error_{k}": rounded(f(errors, axis=0), 8)
                   for k, f in (("median", np.median), ("min", np.min), ("max", np.max))}}
    return out


def run(out_dir=pathlib.Path("results/conv_overparam"), data_dir=None, quick=False, settings=None):
    return runner.run(sys.modules[__name__], out_dir, data_dir, quick, settings)
