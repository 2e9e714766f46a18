#!/usr/bin/env python3
"""Reference numbers for oddhunt's Isolation Forest tests (crates/models/tests/iforest_sklearn.rs).

The shared fixture holds five scikit-learn runs (random_state 0-4). On that data one forest's
ROC-AUC varies with the seed by about 0.03 (standard deviation), so the mean of five runs is
itself uncertain by about 0.014. This script measures scikit-learn's own distribution over many
seeds, which the tests compare against. Run with the benchmark venv:

    /work/venv-iforest/bin/python bench/iforest_sklearn_reference.py [n_seeds]

(`bench/iforest.sh` creates the venv.) Prints JSON.
"""
import json
import os
import sys

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "shared", "fixtures", "iforest", "iforest_blobs.json")


def main():
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with open(FIXTURE) as f:
        d = json.load(f)
    X = np.array(d["X"])
    y = np.array(d["label"])
    aucs, flagged, total = [], [], np.zeros(len(y))
    for seed in range(n_seeds):
        m = IsolationForest(n_estimators=100, max_samples=256, contamination="auto",
                            random_state=seed).fit(X)
        s = m.score_samples(X)
        total += s
        aucs.append(roc_auc_score(y, -s))
        flagged.append(int((m.predict(X) == -1).sum()))
    fixture_mean = np.mean([r["score_samples"] for r in d["runs"]], axis=0)
    out = {
        "sklearn": __import__("sklearn").__version__,
        "n_seeds": n_seeds,
        "auc_mean": float(np.mean(aucs)),
        "auc_sd": float(np.std(aucs)),
        "auc_min": float(np.min(aucs)),
        "auc_max": float(np.max(aucs)),
        "auc_of_mean_score": float(roc_auc_score(y, -total / n_seeds)),
        "flagged_mean": float(np.mean(flagged)),
        "flagged_min": int(np.min(flagged)),
        "flagged_max": int(np.max(flagged)),
        "fixture_runs_auc_mean": float(np.mean([r["roc_auc"] for r in d["runs"]])),
        "fixture_500_tree_auc": float(roc_auc_score(y, -fixture_mean)),
        "fixture_500_tree_flagged": int((fixture_mean < -0.5).sum()),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
