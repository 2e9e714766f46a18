"""Generates Exchange admin audit records for bench/sequence.sh (reference tooling only).

    sequence_data.py EVENTS OUT.jsonl [SEED]

Writes EVENTS records in the Office 365 Management Activity API shape oddhunt's Office profile
reads (CreationTime, UserId, ClientIP, Operation, Workload, Parameters [{Name, Value}]), in time
order: 2,000 admins, sessions of 1-12 cmdlets a few seconds apart drawn from a fixed Markov
chain over 40 cmdlets, each cmdlet with a few of its usual parameters (values from small
vocabularies, so some parameters are "modellable"). Deterministic for a seed.
"""

import json
import random
import sys
from datetime import datetime, timedelta, timezone


def main(n, path, seed=7):
    rng = random.Random(seed)
    cmdlets = [f"Verb{i % 8}-Noun{i}" for i in range(40)]
    params = {c: [f"P{j}" for j in rng.sample(range(30), rng.randint(1, 6))] for c in cmdlets}
    values = {f"P{j}": [f"v{j}_{k}" for k in range(rng.choice([2, 5, 50]))] for j in range(30)}
    # A sparse transition structure: each cmdlet is usually followed by one of four others.
    follow = {c: rng.sample(cmdlets, 4) for c in cmdlets}
    admins = [(f"admin{i}@corp.example.com", f"10.{i // 250}.{i % 250}.{rng.randint(1, 254)}") for i in range(2000)]
    start = datetime(2024, 3, 4, tzinfo=timezone.utc)
    t = 0.0
    written = 0
    with open(path, "w") as out:
        while written < n:
            user, ip = rng.choice(admins)
            t += rng.expovariate(1 / 2.0)  # a new session every ~2 s across the organisation
            length = min(rng.randint(1, 12), n - written)
            c = rng.choice(cmdlets)
            st = t
            records = []
            for k in range(length):
                ps = [p for p in params[c] if rng.random() < 0.8]
                records.append(
                    {
                        "CreationTime": (start + timedelta(seconds=int(st))).strftime("%Y-%m-%dT%H:%M:%S"),
                        "UserId": user,
                        "ClientIP": ip,
                        "Operation": c,
                        "Workload": "Exchange",
                        "RecordType": 1,
                        "Parameters": [{"Name": p, "Value": rng.choice(values[p])} for p in ps],
                    }
                )
                st += rng.uniform(1, 30)
                c = rng.choice(follow[c]) if rng.random() < 0.9 else rng.choice(cmdlets)
            for r in records:
                out.write(json.dumps(r) + "\n")
            written += length
    # Sessions overlap in time: the file is in order of session start, within minutes of time
    # order (well inside the detector's default 60 minutes of allowed lateness).


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 7)
