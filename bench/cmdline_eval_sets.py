#!/usr/bin/env python3
"""Writes the labelled evaluation sets of the cmdline detector (CSV, the columns of
../shared/data/commandline_labelled/cmdline_dev_labelled.csv.gz), for bench/cmdline_eval.sh.

    cmdline_eval_sets.py SHARED_DATA_DIR OUT_DIR

Sets (each is trained on and scored as a whole, as an analyst would; only rows labelled benign or
malicious are evaluated, `unknown` rows stay in the training data):

- otrf, evtx, msticpy: the rows of cmdline_dev_labelled.csv.gz from one source
  (OTRF/Security-Datasets, sbousseaden/EVTX-ATTACK-SAMPLES, msticpy win_proc_test); labels as in
  its README (heuristic rules / file-level).
- all: the whole file.
- msticpy_host_day: msticpy's processes_on_host.csv (one lab host, 2019-01-15, 363 process
  starts); malicious = the 117 rows of process_tree.csv (the published tree of the simulated
  attack on that host and day, all of which occur in processes_on_host), benign = the others.
  Caveat: some "benign" rows belong to the simulation too (net1.exe children of the tree's
  net.exe, C:\\Windows\\Fonts\\conhost.exe run by the same admin) but are not in the exported tree.
- msticpy_mixed: the msticpy win_proc_test rows with their labels from cmdline_dev_labelled, plus
  the 117 process_tree rows as malicious (another day of the same lab host's background, with the
  attack tree mixed in).

Standard library only.
"""
import csv
import gzip
import os
import sys

COLUMNS = ["record_kind", "source", "source_ref", "timestamp", "host", "user", "image",
           "parent_image", "command_line", "parent_command_line", "label", "label_source",
           "attack_ref"]
SOURCES = {
    "otrf": "OTRF/Security-Datasets",
    "evtx": "sbousseaden/EVTX-ATTACK-SAMPLES",
    "msticpy": "microsoft/msticpy win_proc_test",
}


def read_gz_csv(path):
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


def from_4688(row, label, source, why):
    """A msticpy 4688 row (SecurityEvent columns) in the labelled file's columns."""
    return {
        "record_kind": "event", "source": source, "source_ref": "",
        "timestamp": row["TimeGenerated"].replace(" ", "T") + "Z", "host": row["Computer"],
        "user": row["Account"], "image": row["NewProcessName"],
        "parent_image": row["ParentProcessName"], "command_line": row["CommandLine"],
        "parent_command_line": "", "label": label, "label_source": why, "attack_ref": "",
    }


def main():
    data, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rows = read_gz_csv(os.path.join(data, "commandline_labelled", "cmdline_dev_labelled.csv.gz"))
    write(os.path.join(out, "all.csv"), rows)
    for name, source in SOURCES.items():
        write(os.path.join(out, f"{name}.csv"), [r for r in rows if r["source"] == source])
    tree = read_gz_csv(os.path.join(data, "msticpy_demo_data", "process_tree.csv.gz"))
    host = read_gz_csv(os.path.join(data, "msticpy_demo_data", "processes_on_host.csv.gz"))
    in_tree = {(r["NewProcessId"], r["TimeGenerated"]) for r in tree}
    write(os.path.join(out, "msticpy_host_day.csv"), [
        from_4688(r, "malicious" if (r["NewProcessId"], r["TimeGenerated"]) in in_tree else "benign",
                  "msticpy processes_on_host", "in process_tree" if (r["NewProcessId"], r["TimeGenerated"]) in in_tree else "not in process_tree")
        for r in host
    ])
    write(os.path.join(out, "msticpy_mixed.csv"),
          [r for r in rows if r["source"] == SOURCES["msticpy"]]
          + [from_4688(r, "malicious", "msticpy process_tree", "process_tree") for r in tree])


if __name__ == "__main__":
    main()
