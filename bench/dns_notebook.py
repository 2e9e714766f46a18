"""The BSides "DCO and Data Science" DNS hunt as a notebook does it, for bench/dns.sh.

Reads a Zeek dns.log with ZAT's LogToDataFrame (pandas read_csv underneath), engineers the same
per-registered-domain features as oddhunt's `dns` detector with pandas (registered domain by
tldextract's bundled public suffix list, offline; entropy and lengths over the distinct names
only, mapped back, as a careful analyst would), fits scikit-learn's IsolationForest, flags the
top 10 % (contamination=0.1), standard-scales and clusters the flagged domains with KMeans(k=4),
and prints the top domains. Prints one JSON line of timings and peak RSS on stdout.

    python bench/dns_notebook.py dns.log
"""

import json
import math
import resource
import sys
import time
from collections import Counter

wall0 = time.perf_counter()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tldextract  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from zat.log_to_dataframe import LogToDataFrame  # noqa: E402

path = sys.argv[1]
t = {}

t0 = time.perf_counter()
df = LogToDataFrame().create_dataframe(path)
t["read"] = time.perf_counter() - t0
rows = len(df)

t0 = time.perf_counter()
# NetBIOS and mDNS stay on the LAN (oddhunt ignores them by default too).
qtype = df["qtype_name"].astype(str)
port = df["id.resp_p"].astype("int64")
local = qtype.isin(["NB", "NBSTAT"]) | port.isin([137, 5353, 5355])
query = df["query"].astype(str).str.lower().str.rstrip(".")
local |= query.str.endswith(".local")
df = df[~local].copy()
query = query[~local]
extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
names = pd.Series(query.unique())


def split(name):
    r = extract(name)
    registered = r.top_domain_under_public_suffix if hasattr(r, "top_domain_under_public_suffix") else r.registered_domain
    if not registered:
        return name, ""
    return registered, r.subdomain


def entropy(s):
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


parts = names.map(split)
lookup = pd.DataFrame(
    {
        "query": names,
        "registered": parts.map(lambda p: p[0]),
        "subdomain": parts.map(lambda p: p[1]),
    }
)
lookup["sub_len"] = lookup["subdomain"].str.len()
lookup["sub_entropy"] = lookup["subdomain"].map(entropy)
df["query"] = query
df = df.merge(lookup, on="query", how="left")
df["nx"] = df["rcode_name"].astype(str).eq("NXDOMAIN")
df["txt_null"] = df["qtype_name"].astype(str).isin(["TXT", "NULL"])
features = df.groupby("registered").agg(
    queries=("query", "size"),
    distinct_subdomains=("subdomain", "nunique"),
    mean_subdomain_length=("sub_len", "mean"),
    max_subdomain_length=("sub_len", "max"),
    mean_subdomain_entropy=("sub_entropy", "mean"),
    max_subdomain_entropy=("sub_entropy", "max"),
    distinct_clients=("id.orig_h", "nunique"),
    nxdomain_share=("nx", "mean"),
    txt_null_share=("txt_null", "mean"),
)
for volume in ["queries", "distinct_subdomains", "distinct_clients"]:
    features[volume] = np.log10(1 + features[volume])
t["features"] = time.perf_counter() - t0

t0 = time.perf_counter()
X = features.to_numpy(dtype=float)
forest = IsolationForest(n_estimators=100, contamination=0.1, random_state=0).fit(X)
score = -forest.score_samples(X)
flagged = forest.predict(X) == -1
odd = StandardScaler().fit_transform(X[flagged])
clusters = KMeans(n_clusters=min(4, len(odd)), n_init=10, random_state=0).fit_predict(odd)
t["model"] = time.perf_counter() - t0

top = features.assign(score=score).sort_values("score", ascending=False).head(10)
for name, s in zip(top.index, top["score"]):
    print(f"{s:.3f} {name}", file=sys.stderr)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    json.dumps(
        {
            "rows": rows,
            "domains": len(features),
            "flagged": int(flagged.sum()),
            "top": list(top.index[:5]),
            "read_wall": t["read"],
            "features_wall": t["features"],
            "model_wall": t["model"],
            "total_wall": time.perf_counter() - wall0,
            "total_cpu": cpu(),
            "peak_rss_mb": peak,
        }
    )
)
