"""msticpy 3.0.2 side of the Markov benchmark (driven by bench/markov.sh).

Reference tool only: runs msticpy's anomalous_sequence on the workloads that
`markov_bench` (crates/models/examples/markov_bench.rs) generated, prints CPU times
(time.process_time) and compares with oddhunt's outputs.

    markov_msticpy.py sessionize EVENTS.jsonl N ODDHUNT_SAMPLE.json ODDHUNT_FULL.json
    markov_msticpy.py canon SESSIONS.json OUT.json
    markov_msticpy.py score SESSIONS.json ODDHUNT_SCORES.json

For cmds_params_only, msticpy multiplies param factors in Python set iteration order (spec
Q1). `canon` builds the sets exactly as `score` will (same file, same code, run with the same
PYTHONHASHSEED) and writes each set's iteration order; oddhunt is trained and scored on that
file, so both sides multiply in the same order. `score` must be given the original file.
"""

import json
import math
import struct
import sys
import time

import pandas as pd
from msticpy.analysis.anomalous_sequence.model import Model
from msticpy.analysis.anomalous_sequence.sessionize import sessionize_data
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd


def hexbits(x):
    return None if x is None or math.isnan(x) else struct.pack(">d", x).hex()


def sessionize(events_path, n, oddhunt_path, full_path):
    rows = []
    with open(events_path) as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            rows.append(json.loads(line))
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], unit="ns", utc=True)
    t0 = time.process_time()
    out = sessionize_data(
        df,
        user_identifier_cols=["user", "ip"],
        time_col="ts",
        max_session_time_mins=20,
        max_event_separation_mins=2,
        event_col="eid",
    )
    cpu = time.process_time() - t0
    with open(oddhunt_path) as f:
        mine = json.load(f)["sessions"]
    theirs = []
    for _, r in out.iterrows():
        keys = [None if pd.isna(r["user"]) else r["user"], None if pd.isna(r["ip"]) else r["ip"]]
        theirs.append(
            {
                "keys": keys,
                "events": [int(e) for e in r["eid_list"]],
                "start": int(r["ts_min"].value),
                "end": int(r["ts_max"].value),
            }
        )
    same = mine == theirs
    print(
        f"msticpy sessionize_data: {len(df)} events -> {len(out)} sessions in {cpu:.1f} s CPU "
        f"= {cpu / len(df) * 1e3:.3f} ms/event; 1M events extrapolated: {cpu / len(df) * 1e6:.0f} s CPU"
    )
    print(f"sessionize output identical (keys, order, events, min/max times): {same}")
    if not same:
        diffs = sum(a != b for a, b in zip(mine, theirs))
        print(f"  oddhunt {len(mine)} sessions, msticpy {len(theirs)}, {diffs} differ")
        sys.exit(1)
    with open(full_path) as f:
        full = json.load(f)
    per_event = cpu / len(df)
    extrapolated = per_event * full["events"]
    print(
        f"sessionize {full['events']} events, CPU: msticpy {extrapolated:.0f} s (extrapolated from "
        f"{len(df)} events), oddhunt sessionize_all {full['cpu_all']:.3f} s "
        f"({extrapolated / full['cpu_all']:.0f}x), streaming Sessionizer {full['cpu_stream']:.3f} s "
        f"({extrapolated / full['cpu_stream']:.0f}x)"
    )


def load_sessions(path):
    with open(path) as f:
        data = json.load(f)
    st = data["session_type"]
    sessions = []
    for s in data["sessions"]:
        if st == "cmds_only":
            sessions.append(list(s))
        elif st == "cmds_params_only":
            sessions.append([Cmd(c["name"], set(c["params"])) for c in s])
        else:
            sessions.append([Cmd(c["name"], {p: v for p, v in c["params"]}) for c in s])
    return st, data, sessions


def canon(path, out):
    """Rewrites params_only param lists in this interpreter's set iteration order."""
    st, data, sessions = load_sessions(path)
    if st == "cmds_params_only":
        for raw, s in zip(data["sessions"], sessions):
            for c_raw, c in zip(raw, s):
                c_raw["params"] = list(c.params)
    with open(out, "w") as f:
        json.dump(data, f)


def layout(cmd, st):
    if st == "cmds_only":
        return cmd
    if st == "cmds_params_only":
        return (cmd.name, tuple(cmd.params))
    return (cmd.name, tuple(cmd.params.items()))


def score(path, oddhunt_path):
    st, data, sessions = load_sessions(path)
    t0 = time.process_time()
    model = Model(sessions=sessions)
    model.train()
    t1 = time.process_time()
    model.compute_rarest_windows(window_len=3, use_start_end_tokens=True, use_geo_mean=False)
    model.compute_likelihoods_of_sessions(use_start_end_tokens=True)
    t2 = time.process_time()
    train_cpu, score_cpu = t1 - t0, t2 - t1

    with open(oddhunt_path) as f:
        mine = json.load(f)
    exact_lik = exact_rare = close = same_window = 0
    worst = 0.0
    for i, (s, r) in enumerate(zip(sessions, mine["results"])):
        lik = model.session_likelihoods[i]
        rare = model.rare_window_likelihoods[3][i]
        window = model.rare_windows[3][i]
        exact_lik += hexbits(lik) == r["lik"]
        exact_rare += hexbits(rare) == r["rarest"]
        for theirs, ours in ((lik, r["lik"]), (rare, r["rarest"])):
            if ours is None or theirs is None or math.isnan(theirs):
                ok = ours is None and (theirs is None or math.isnan(theirs))
                rel = 0.0 if ok else math.inf
            else:
                o = struct.unpack(">d", bytes.fromhex(ours))[0]
                rel = abs(o - theirs) / abs(theirs) if theirs else abs(o)
            worst = max(worst, rel)
        close += 1
        same_window += [layout(c, st) for c in window] == [layout(c, st) for c in s[r["start"] : r["end"]]]
    n = len(sessions)
    commands = sum(len(s) for s in sessions)
    print(
        f"msticpy {st}: {n} sessions ({commands} commands): train {train_cpu:.1f} s CPU, "
        f"score {score_cpu:.1f} s CPU"
    )
    print(
        f"  vs oddhunt: session likelihoods bit-equal {exact_lik}/{n}, rarest likelihoods bit-equal "
        f"{exact_rare}/{n}, max relative difference {worst:.3g}, same rarest windows {same_window}/{n}"
    )
    total = train_cpu + score_cpu
    print(f"  train+score CPU: msticpy {total:.2f} s; oddhunt (ratio = msticpy / oddhunt):")
    for label, key in (
        ("observe+fit+score, 1 thread, CPU", "observe_fit_score_cpu"),
        ("train_and_score, 1 thread, CPU", "train_and_score_1_thread_cpu"),
        ("train_and_score, all threads, wall", "train_and_score_pool_wall"),
    ):
        print(f"    {label:38s} {mine[key]:.4f} s  {total / mine[key]:6.0f}x")
    if same_window != n or worst > 1e-12:
        sys.exit(1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sessionize":
        sessionize(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "canon":
        canon(sys.argv[2], sys.argv[3])
    elif cmd == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")
