#!/usr/bin/env python3
"""Generate crates/models/tests/fixtures/nn_keras.json: Keras reference numbers for oddhunt's nn.

Builds the two autoencoders oddhunt trains, in Keras 3 on TensorFlow (CPU), small enough for a
test: the cmdline network (Embedding(256, 4) over 24 byte positions -> Flatten -> Dense 128, 64,
32, 16, 32, 64, 128 -> Dense 24, all tanh; MAE) and the proccount network (16 -> 8 -> 4 -> 8 ->
16, LeakyReLU() after each Dense; MSE). Both start from fixed weights that the Rust test rebuilds
from the same formula (`fixed_weight` below: a SplitMix64 hash of tensor number and element
index, scaled like Keras' initialisers but with non-zero biases so the bias path is exercised),
run a forward pass on fixed inputs, then one epoch of Adam (Keras defaults, learning rate 1e-3)
with shuffle=False and a batch size that gives three steps, the last one partial. The batches
touch different embedding rows, so the test also pins down how Adam treats rows a batch did not
use. Trained weights are stored as base64 little-endian float32.

Run: /work/venv-nn/bin/python bench/nn_keras_fixture.py  (tensorflow-cpu 2.21, keras 3.15).
"""
import base64
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def fixed_weight(tensor, index, scale):
    """Uniform in [-scale, scale), from a hash of (tensor number, element index)."""
    u = (splitmix64((tensor << 32) | index) >> 11) / float(1 << 53)
    return np.float32((2.0 * u - 1.0) * scale)


def fixed_tensor(tensor, shape, scale):
    n = int(np.prod(shape))
    return np.array([fixed_weight(tensor, i, scale) for i in range(n)], dtype=np.float32).reshape(shape)


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def floats(array):
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


def dense_names(model):
    return [layer for layer in model.layers if isinstance(layer, layers.Dense)]


def set_fixed_weights(model, embedding=None):
    """Tensor numbering: embedding 0 (if any), then kernel 2i+1 / bias 2i+2 for dense layer i."""
    names = {}
    if embedding is not None:
        table = fixed_tensor(0, embedding.get_weights()[0].shape, 0.05)
        embedding.set_weights([table])
        names["embedding.embeddings"] = table
    for i, dense in enumerate(dense_names(model)):
        kernel_shape = dense.get_weights()[0].shape
        limit = float(np.sqrt(6.0 / (kernel_shape[0] + kernel_shape[1])))
        kernel = fixed_tensor(2 * i + 1, kernel_shape, limit)
        bias = fixed_tensor(2 * i + 2, (kernel_shape[1],), 0.1)
        dense.set_weights([kernel, bias])
        names[f"dense_{i}.kernel"] = kernel
        names[f"dense_{i}.bias"] = bias
    return names


def trained_weights(model, embedding=None):
    out = {}
    if embedding is not None:
        out["embedding.embeddings"] = b64(embedding.get_weights()[0])
    for i, dense in enumerate(dense_names(model)):
        kernel, bias = dense.get_weights()
        out[f"dense_{i}.kernel"] = b64(kernel)
        out[f"dense_{i}.bias"] = b64(bias)
    return out


def cmdline_case():
    max_length, rows = 24, 8
    rng = np.random.default_rng(7)
    ids = np.zeros((rows, max_length), dtype=np.int32)
    for r in range(rows):
        length = int(rng.integers(6, max_length + 1))
        # Rows 0-3 use printable ASCII, rows 4-7 high bytes: the three batches touch different
        # embedding rows. Zero padding at the end, as padded command lines.
        low, high = (32, 127) if r < 4 else (128, 256)
        ids[r, :length] = rng.integers(low, high, size=length)
    target = (ids / 255.0).astype(np.float32)

    embedding = layers.Embedding(256, 4)
    model = keras.Sequential(
        [keras.Input(shape=(max_length,), dtype="int32"), embedding, layers.Flatten()]
        + [layers.Dense(u, activation="tanh") for u in (128, 64, 32, 16, 32, 64, 128)]
        + [layers.Dense(max_length, activation="tanh")]
    )
    set_fixed_weights(model, embedding)
    forward = model(ids, training=False).numpy()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mae")
    history = model.fit(ids, target, batch_size=3, epochs=1, shuffle=False, verbose=0)
    return {
        "max_length": max_length,
        "ids": ids.ravel().tolist(),
        "target": floats(target),
        "forward": floats(forward),
        "batch_size": 3,
        "epoch_loss": float(history.history["loss"][0]),
        "trained": trained_weights(model, embedding),
        "after_training_forward": floats(model(ids, training=False).numpy()),
    }


def proccount_case():
    rows = 10
    rng = np.random.default_rng(11)
    # Hashed process counts: small signed integers, mostly zero, log-scaled as a detector might.
    counts = rng.integers(-4, 5, size=(rows, 16)) * (rng.random((rows, 16)) < 0.4)
    values = (np.sign(counts) * np.log1p(np.abs(counts))).astype(np.float32)
    inputs = keras.Input(shape=(16,))
    x = inputs
    for units in (8, 4, 8, 16):
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU()(x)
    model = keras.Model(inputs, x)
    set_fixed_weights(model)
    forward = model(values, training=False).numpy()
    distances = np.linalg.norm(values - forward, axis=1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
    history = model.fit(values, values, batch_size=4, epochs=1, shuffle=False, verbose=0)
    leaky = [layer for layer in model.layers if isinstance(layer, layers.LeakyReLU)][0]
    return {
        "values": floats(values),
        "forward": floats(forward),
        "euclidean": floats(distances),
        "leaky_relu_negative_slope": float(leaky.negative_slope),
        "batch_size": 4,
        "epoch_loss": float(history.history["loss"][0]),
        "trained": trained_weights(model),
        "after_training_forward": floats(model(values, training=False).numpy()),
    }


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "crates", "models", "tests", "fixtures", "nn_keras.json"
    )
    fixture = {
        "generator": "bench/nn_keras_fixture.py",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "weights": "fixed_weight(tensor, index, scale): SplitMix64((tensor << 32) | index) >> 11, "
        "/ 2^53 -> u; (2u - 1) * scale as float32; tensor 0 = embedding (scale 0.05), dense i: "
        "kernel 2i+1 (Glorot limit), bias 2i+2 (0.1)",
        "cmdline": cmdline_case(),
        "proccount": proccount_case(),
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes)")


if __name__ == "__main__":
    main()
