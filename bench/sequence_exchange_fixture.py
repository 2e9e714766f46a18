"""Reference fixture for the sequence detector: msticpy 3.0.2 on the Exchange demo log.

Reference tool only (never part of oddhunt). Reproduces the AnomalousSequence notebook of
msticpy on `shared/data/msticpy_demo_data/demo_exchange_data.csv.gz`:

* reads the CSV with pandas as the notebook does (`TimeGenerated` as text; msticpy's
  `sessionize_data` parses it);
* builds the three session columns as the notebook's `clean_exchange_params` does: the
  `Operation` name; `Cmd(name, set of param names)`; `Cmd(name, dict name -> value)` (the
  notebook `eval`s the `Parameters` JSON text; the script checks that `json.loads` agrees);
* `sessionize_data(user_identifier_cols=["UserId", "ClientIP"], time_col="TimeGenerated",
  max_session_time_mins=20, max_event_separation_mins=2)`, then
  `score_sessions(window_length=3)` per session type.

Two key variants: `notebook` keys by the raw `ClientIP` (which carries the client's port, so
nearly every IP-keyed event is a session of its own), `ingest` by the IP without the port, as
oddhunt's Office profile reads it.

For `cmds_params_only` msticpy multiplies param factors in Python set iteration order (spec
Q1, `shared/specs/markov.md`); the script runs under PYTHONHASHSEED=0 and writes, per CSV row,
the order in which that set iterates (`param_order`), so a test can feed oddhunt the params in
the same order and compare bit for bit.

Usage (from the repository root):

    PYTHONHASHSEED=0 /work/venv-markov/bin/python bench/sequence_exchange_fixture.py \
        ../shared/data/msticpy_demo_data/demo_exchange_data.csv.gz \
        crates/detect/tests/fixtures/sequence_exchange.json
"""

import json
import math
import os
import re
import struct
import sys

import msticpy
import pandas as pd
from msticpy.analysis.anomalous_sequence import anomalous, sessionize
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd


def hexbits(x):
    return None if x is None or math.isnan(x) else struct.pack(">d", x).hex()


def strip_port(ip):
    """oddhunt's Office profile: `1.2.3.4:5678` -> `1.2.3.4`, `[v6]:port` -> `v6`."""
    if not isinstance(ip, str):
        return ip
    ip = ip.strip()
    if ip.startswith("["):
        rest = ip[1:]
        return rest.split("]", 1)[0]
    if ":" in ip:
        addr, port = ip.split(":", 1)
        if ":" not in port and re.fullmatch(r"[0-9]*", port) and "." in addr:
            return addr
    return ip


def clean_exchange_params(operation, parameters, include_vals):
    """The notebook's helper, verbatim in behaviour."""
    params = parameters
    if isinstance(parameters, str):
        params = eval(params)  # noqa: S307 - as the notebook; checked against json below
        assert params == json.loads(parameters)
    new = dict()
    for dic in params:
        new[dic["Name"]] = dic["Value"]
    if include_vals:
        return Cmd(name=operation, params=new)
    return Cmd(name=operation, params=set(new.keys()))


def iso(ts):
    assert ts.nanosecond == 0 and ts.microsecond == 0
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_names(window):
    return [c if isinstance(c, str) else c.name for c in window]


def run(exchange, variant, names):
    """Sessions (keys, start, end, events) once, then per session type the rarest window's
    likelihood bits and its commands (as indices into `names`)."""
    data = exchange.copy()
    if variant == "ingest":
        data["ClientIP"] = data["ClientIP"].map(strip_port)
    columns = {
        "cmds_only": "Operation",
        "cmds_params_only": "cmd_param",
        "cmds_params_values": "cmd_param_val",
    }
    sessions_out = None
    scores = {}
    for session_type, column in columns.items():
        sessions = sessionize.sessionize_data(
            data=data,
            user_identifier_cols=["UserId", "ClientIP"],
            time_col="TimeGenerated",
            max_session_time_mins=20,
            max_event_separation_mins=2,
            event_col=column,
        )
        scored = anomalous.score_sessions(
            data=sessions, session_column=f"{column}_list", window_length=3
        )
        rows = []
        these = []
        for _, r in scored.iterrows():
            these.append(
                [
                    None if pd.isna(r["UserId"]) else r["UserId"],
                    None if pd.isna(r["ClientIP"]) else r["ClientIP"],
                    iso(r["TimeGenerated_min"]),
                    iso(r["TimeGenerated_max"]),
                    int(r["number_events"]),
                ]
            )
            lik = r["rarest_window3_likelihood"]
            lik = None if pd.isna(lik) else float(lik)
            rows.append([hexbits(lik), [names.index(n) for n in window_names(r["rarest_window3"])]])
        # The boundaries do not depend on the event column.
        assert sessions_out is None or sessions_out == these
        sessions_out = these
        scores[session_type] = rows
    return {"sessions": sessions_out, "scores": scores}


def main(csv_path, out_path):
    if os.environ.get("PYTHONHASHSEED") != "0":
        sys.exit("run with PYTHONHASHSEED=0 (set iteration order of the params sessions)")
    exchange = pd.read_csv(csv_path)
    exchange["cmd_param"] = exchange.apply(
        lambda x: clean_exchange_params(x["Operation"], x["Parameters"], False), axis=1
    )
    exchange["cmd_param_val"] = exchange.apply(
        lambda x: clean_exchange_params(x["Operation"], x["Parameters"], True), axis=1
    )
    # Per CSV row: the positions (in the dict built from the row's Parameters) in the order the
    # row's param set iterates.
    names = sorted(set(exchange["Operation"]))
    param_order = []
    for cmd_set, cmd_dict in zip(exchange["cmd_param"], exchange["cmd_param_val"]):
        listed = list(cmd_dict.params.keys())
        param_order.append([listed.index(p) for p in cmd_set.params])
    fixture = {
        "format": "oddhunt-sequence-fixture/1",
        "generator": {
            "script": "bench/sequence_exchange_fixture.py",
            "msticpy": msticpy.__version__,
            "pandas": pd.__version__,
            "python": sys.version.split()[0],
            "PYTHONHASHSEED": "0",
        },
        "input": {
            "file": "msticpy_demo_data/demo_exchange_data.csv.gz",
            "rows": len(exchange),
            "keys": ["UserId", "ClientIP"],
            "max_session_time_mins": 20,
            "max_event_separation_mins": 2,
            "window_length": 3,
        },
        "param_order": param_order,
        "layout": {
            "names": "command names, indexed by the windows",
            "sessions": "[UserId, ClientIP, TimeGenerated_min, TimeGenerated_max, number_events]"
            " in msticpy's order (null = NaN key)",
            "scores": "per session type, per session: [bits of rarest_window3_likelihood"
            " (null = NaN), [window commands as indices into names]]",
            "param_order": "per CSV row, the positions of its params in the order msticpy's"
            " set iterated them (cmds_params_only)",
        },
        "names": names,
        "variants": {v: run(exchange, v, names) for v in ("notebook", "ingest")},
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    for variant, result in fixture["variants"].items():
        for session_type, rows in result["scores"].items():
            nan = sum(r[0] is None for r in rows)
            print(f"{variant} {session_type}: {len(rows)} sessions ({nan} without a window)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
