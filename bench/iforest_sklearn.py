#!/usr/bin/env python3
"""scikit-learn side of bench/iforest.sh: generate the benchmark data, time scikit-learn on it.

    iforest_sklearn.py generate DIR ROWS     write DIR/x.f64 (ROWS x 8 little-endian float64,
                                             row-major) and DIR/labels.u8 (1 = injected outlier)
    iforest_sklearn.py run DIR KMEANS_ROWS   time IsolationForest fit + score_samples on all rows
                                             and KMeans on the first KMEANS_ROWS rows; print JSON

Data as the shared fixture (../shared/fixtures/iforest/README.md), scaled up: 99 % inliers from
two Gaussian clusters at +-2 (unit variance), 0.5 % global outliers uniform in [-6, 6]^8, 0.5 %
local outliers N(0, 0.5) between the clusters; rows shuffled, so any prefix is a fair sample.

CPU seconds are process CPU time (all threads, `time.process_time`), wall seconds
`time.perf_counter`; each figure is the median of REPEATS runs (env, default 3).
"""
import json
import os
import statistics
import sys
import time

import numpy as np

N_FEATURES = 8


def generate(out_dir, rows):
    rng = np.random.default_rng(20261121)
    n_global = rows // 200
    n_local = rows // 200
    n_in = rows - n_global - n_local
    signs = np.where(rng.random(n_in) < 0.5, -2.0, 2.0)[:, None]
    inliers = rng.normal(size=(n_in, N_FEATURES)) + signs
    global_out = rng.uniform(-6.0, 6.0, size=(n_global, N_FEATURES))
    local_out = rng.normal(scale=0.5, size=(n_local, N_FEATURES))
    x = np.vstack([inliers, global_out, local_out])
    y = np.concatenate([np.zeros(n_in), np.ones(n_global + n_local)]).astype(np.uint8)
    order = rng.permutation(rows)
    os.makedirs(out_dir, exist_ok=True)
    x[order].astype("<f8").tofile(os.path.join(out_dir, "x.f64"))
    y[order].tofile(os.path.join(out_dir, "labels.u8"))


def measure(fn, repeats):
    """Median CPU and wall seconds of `fn()` over `repeats` runs, and its last result."""
    cpu, wall, result = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def run(data_dir, kmeans_rows):
    from joblib import parallel_config
    from sklearn.cluster import KMeans
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    repeats = int(os.environ.get("REPEATS", "3"))
    x = np.fromfile(os.path.join(data_dir, "x.f64"), dtype="<f8").reshape(-1, N_FEATURES)
    y = np.fromfile(os.path.join(data_dir, "labels.u8"), dtype=np.uint8)
    out = {"sklearn": __import__("sklearn").__version__, "rows": len(y), "repeats": repeats}

    def iforest(n_jobs, parallel_scoring):
        def fit_and_score():
            m = IsolationForest(n_estimators=100, max_samples=256, n_jobs=n_jobs,
                                random_state=0)
            c0, w0 = time.process_time(), time.perf_counter()
            m.fit(x)
            fit = (time.process_time() - c0, time.perf_counter() - w0)
            if parallel_scoring:
                # score_samples runs its trees sequentially unless joblib is told otherwise.
                with parallel_config(backend="threading", n_jobs=-1):
                    s = m.score_samples(x)
            else:
                s = m.score_samples(x)
            return fit, s
        cpu, wall, (fit, s) = measure(fit_and_score, repeats)
        return {"cpu": cpu, "wall": wall, "fit_cpu": fit[0], "fit_wall": fit[1],
                "auc": float(roc_auc_score(y, -s))}

    out["iforest_n_jobs_1"] = iforest(1, False)
    out["iforest_n_jobs_all"] = iforest(-1, False)
    out["iforest_n_jobs_all_parallel_scoring"] = iforest(-1, True)

    xk = np.ascontiguousarray(x[:kmeans_rows])
    for n_init in (1, 10):
        cpu, wall, m = measure(
            lambda: KMeans(n_clusters=8, n_init=n_init, random_state=0).fit(xk), repeats)
        out[f"kmeans_n_init_{n_init}"] = {"cpu": cpu, "wall": wall, "inertia": float(m.inertia_),
                                          "n_iter": int(m.n_iter_), "rows": kmeans_rows}
    print(json.dumps(out))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
