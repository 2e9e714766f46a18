#!/usr/bin/env python3
"""Keras/TensorFlow (CPU) side of bench/nn.sh: the same two networks on the same data files.

  nn_keras.py DIR cmdline|proccount [--max-length L] [--epochs E] [--batch B] [--score-rows N]

Reads the files `nn_bench generate` wrote (cmdline_L{L}.u8: rows x L byte ids; proccount.f32:
rows x 16 little-endian float32), builds the network exactly as oddhunt's (cmdline:
Embedding(256, 4) -> Flatten -> Dense 128-64-32-16-32-64-128 -> Dense L, all tanh, MAE, target
= ids / 255; proccount: 16-8-4-8-16 with LeakyReLU() after each Dense, MSE, target = input),
trains with Adam (Keras defaults, lr 1e-3), batch 256, shuffle=True, and prints one JSON object
with the same fields as oddhunt's nn_bench: per-epoch wall and process-CPU seconds, losses,
scoring throughput (predict with batch 1024 plus the per-row error in numpy) and peak RSS
during training (the peak mark is reset after the data is loaded).
"""
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402


def arg(name, default, kind=int):
    if name in sys.argv:
        return kind(sys.argv[sys.argv.index(name) + 1])
    return default


def memory_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux clear_refs 5), as oddhunt's nn_bench does."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.wall0, self.cpu0 = time.perf_counter(), cpu()

    def on_epoch_end(self, epoch, logs=None):
        self.walls.append(time.perf_counter() - self.wall0)
        self.cpus.append(cpu() - self.cpu0)
        self.losses.append(float(logs["loss"]))

    def on_train_begin(self, logs=None):
        self.walls, self.cpus, self.losses = [], [], []


def main():
    data_dir, which = sys.argv[1], sys.argv[2]
    max_length = arg("--max-length", 100)
    epochs = arg("--epochs", 2)
    batch = arg("--batch", 256)
    score_rows = arg("--score-rows", None)
    keras.utils.set_random_seed(1)

    started = time.perf_counter()
    if which == "cmdline":
        ids = np.fromfile(os.path.join(data_dir, f"cmdline_L{max_length}.u8"), dtype=np.uint8)
        x = ids.reshape(-1, max_length).astype(np.int32)
        y = (x / 255.0).astype(np.float32)
        model = keras.Sequential(
            [keras.Input(shape=(max_length,), dtype="int32"), layers.Embedding(256, 4), layers.Flatten()]
            + [layers.Dense(u, activation="tanh") for u in (128, 64, 32, 16, 32, 64, 128)]
            + [layers.Dense(max_length, activation="tanh")]
        )
        loss = "mae"

        def row_error(pred, target):
            return np.mean(np.abs(pred - target), axis=1)

    elif which == "proccount":
        x = np.fromfile(os.path.join(data_dir, "proccount.f32"), dtype="<f4").reshape(-1, 16)
        y = x
        inputs = keras.Input(shape=(16,))
        h = inputs
        for units in (8, 4, 8, 16):
            h = layers.LeakyReLU()(layers.Dense(units)(h))
        model = keras.Model(inputs, h)
        loss = "mse"

        def row_error(pred, target):
            return np.linalg.norm(target - pred, axis=1)

    else:
        raise SystemExit(f"unknown network {which}")
    load_seconds = time.perf_counter() - started
    peak_loading = memory_mib("VmHWM")
    peak_reset = reset_peak_rss()
    rss_before_training = memory_mib("VmRSS")

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=loss)
    timer = EpochTimer()
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    peak_training = memory_mib("VmHWM")

    n = len(x) if score_rows is None else min(len(x), score_rows)
    cpu0, wall0 = cpu(), time.perf_counter()
    pred = model.predict(x[:n], batch_size=1024, verbose=0)
    scores = row_error(pred, y[:n])
    score_wall = time.perf_counter() - wall0
    score_cpu = cpu() - cpu0

    print(json.dumps({
        "implementation": f"keras {keras.__version__} / tensorflow {tf.__version__}",
        "network": which,
        "rows": int(len(x)),
        "max_length": max_length if which == "cmdline" else None,
        "parameters": int(model.count_params()),
        "batch_size": batch,
        "threads": os.cpu_count(),
        "load_seconds": load_seconds,
        "epoch_wall_seconds": timer.walls,
        "epoch_cpu_seconds": timer.cpus,
        "epoch_loss": timer.losses,
        "score_rows": int(n),
        "score_wall_seconds": score_wall,
        "score_cpu_seconds": score_cpu,
        "score_rows_per_second": n / max(score_wall, 1e-9),
        "mean_score": float(np.mean(scores)),
        "rss_mib_before_training": rss_before_training,
        "peak_rss_mib_training": peak_training if peak_reset else None,
        "peak_rss_mib_loading": peak_loading,
        "peak_rss_mib_end": memory_mib("VmHWM"),
    }))


if __name__ == "__main__":
    main()
