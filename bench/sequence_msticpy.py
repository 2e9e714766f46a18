"""msticpy 3.0.2 side of bench/sequence.sh (reference tooling only).

    sequence_msticpy.py EVENTS.jsonl SESSION_TYPE ODDHUNT_FINDINGS.jsonl

Runs the AnomalousSequence notebook's pipeline on EVENTS.jsonl (Office audit records from
sequence_data.py): `sessionize_data` by UserId + ClientIP (20 / 2 minutes), then
`score_sessions(window_length=3)` on the session type's column; prints its CPU time
(time.process_time) and compares every session's rarest-window likelihood, bit for bit, and
rarest window with oddhunt's `hunt sequence --all --format jsonl` output on the same file.
Exits non-zero on any difference. Session types: cmds_only or cmds_params_values (the params
type iterates Python sets in a per-process hash order, spec Q1, so it is left out here; the
Exchange fixture test covers it).
"""

import json
import math
import struct
import sys
import time

import pandas as pd
from msticpy.analysis.anomalous_sequence import anomalous, sessionize
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd


def bits(x):
    return None if x is None or math.isnan(x) else struct.pack(">d", x).hex()


def main(events_path, session_type, oddhunt_path):
    rows = [json.loads(line) for line in open(events_path)]
    df = pd.DataFrame(rows)
    df["CreationTime"] = pd.to_datetime(df["CreationTime"], utc=True)
    if session_type == "cmds_only":
        column = "Operation"
    else:
        column = "cmd_param_val"
        df[column] = [
            Cmd(name=op, params={p["Name"]: p["Value"] for p in ps})
            for op, ps in zip(df["Operation"], df["Parameters"])
        ]
    t0 = time.process_time()
    sessions = sessionize.sessionize_data(
        data=df,
        user_identifier_cols=["UserId", "ClientIP"],
        time_col="CreationTime",
        max_session_time_mins=20,
        max_event_separation_mins=2,
        event_col=column,
    )
    t1 = time.process_time()
    scored = anomalous.score_sessions(data=sessions, session_column=f"{column}_list", window_length=3)
    t2 = time.process_time()
    print(
        f"msticpy {session_type}: {len(df)} events, {len(sessions)} sessions; CPU sessionize "
        f"{t1 - t0:.2f} s, score_sessions {t2 - t1:.2f} s"
    )
    mine = {}
    for line in open(oddhunt_path):
        f = json.loads(line)
        if f.get("oddhunt.detector") != "sequence":
            continue
        e = f["oddhunt.explanation"]
        key = (e["keys"]["user.name"], e["keys"]["source.ip"], e["start"])
        mine[key] = (f["oddhunt.measure"]["value"], (e.get("rarest_window") or {}).get("commands", []))
    if len(mine) != len(scored):
        sys.exit(f"session counts differ: oddhunt {len(mine)}, msticpy {len(scored)}")
    differ = 0
    for _, r in scored.iterrows():
        key = (r["UserId"], r["ClientIP"], r["CreationTime_min"].strftime("%Y-%m-%dT%H:%M:%SZ"))
        lik = r["rarest_window3_likelihood"]
        lik = None if pd.isna(lik) else float(lik)
        window = [c if isinstance(c, str) else c.name for c in r["rarest_window3"]]
        got = mine.get(key)
        if got is None or bits(got[0]) != bits(lik) or got[1] != window:
            differ += 1
            if differ <= 5:
                print("  differs:", key, got, lik, window)
    print(f"compared {len(scored)} sessions with oddhunt: {differ} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
