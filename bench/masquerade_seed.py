#!/usr/bin/env python3
"""The Sentinel notebook's masquerading-process-name method in pandas: lower-cased process
names, counts, Spark-style percent rank, the infrequent x frequent cross join and
Damerau-Levenshtein similarity. Similarity as the seed's library computes it:
(max - d) / max with true Damerau-Levenshtein over code points (rapidfuzz's distance, which
equals fastDamerauLevenshtein's), extension dropped when shared, 0.0 without a '.', rounded to
float32 (the notebook's UDF returns FloatType), compared > 0.85.

Usage: masquerade_seed.py INPUT.csv OUT_FINDINGS.csv
Prints the timing of each stage and the number of findings as JSON on the last line."""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein


def similarity(a: str, b: str) -> float:
    if "." not in a or "." not in b:
        return 0.0
    sa, ea = a.rsplit(".", 1)
    sb, eb = b.rsplit(".", 1)
    if ea == eb:
        a, b = sa, sb
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    d = DamerauLevenshtein.distance(a, b)
    return float(np.float32((longest - d) / longest))


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


inp, out = sys.argv[1], sys.argv[2]
t0, c0 = time.perf_counter(), cpu()
df = pd.read_csv(inp, usecols=["NewProcessName"], dtype=str)
t1, c1 = time.perf_counter(), cpu()
names = df["NewProcessName"].str.rsplit("\\", n=1).str[-1].str.lower()
counts = names.value_counts().rename_axis("name").reset_index(name="count")
n = len(counts)
# Spark percent_rank: (rank - 1) / (n - 1), ties share the lowest rank.
counts["pr"] = (counts["count"].rank(method="min") - 1) / max(n - 1, 1)
frequent = counts[counts["pr"] >= 0.8][["name"]]
infrequent = counts[counts["pr"] < 0.2][["name"]]
cross = infrequent.merge(frequent, how="cross", suffixes=("_rare", "_normal"))
cross["similarity"] = [similarity(a, b) for a, b in zip(cross["name_rare"], cross["name_normal"])]
found = cross[cross["similarity"] > 0.85].sort_values(["name_rare", "name_normal"])
t2, c2 = time.perf_counter(), cpu()
found.to_csv(out, index=False)
print(json.dumps({
    "rows": len(df), "names": n, "frequent": len(frequent), "infrequent": len(infrequent),
    "pairs": len(cross), "findings": len(found),
    "read_wall": t1 - t0, "read_cpu": c1 - c0,
    "method_wall": t2 - t1, "method_cpu": c2 - c1,
    "total_wall": t2 - t0, "total_cpu": c2 - c0,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
