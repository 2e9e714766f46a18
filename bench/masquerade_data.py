#!/usr/bin/env python3
"""Generates the masquerade benchmark input: N process creations (Log Analytics 4688 CSV
columns) over ~20k distinct process names with Zipf-like frequencies, plus a few dozen rare
look-alikes of common names. Deterministic (seed 7). Usage: masquerade_data.py OUT.csv N"""
import random
import sys

import numpy as np

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
np_rng = np.random.default_rng(7)

syllables = ["win", "svc", "host", "log", "on", "up", "date", "agent", "sys", "mon", "net",
             "run", "task", "srv", "core", "work", "er", "cfg", "sync", "app", "cli", "ui",
             "help", "dl", "set", "inst", "all", "mgr", "tray", "bro", "ker", "view", "edit",
             "scan", "pro", "data", "io", "back", "up", "link", "hub", "node", "cache", "ms",
             "ad", "ob", "ex", "plo", "rer", "vc", "red", "ist", "py", "thon", "java", "zip"]
exts = ["exe"] * 30 + ["com", "bat", "scr", "msi"]
names = set()
while len(names) < 20_000:
    k = rng.randint(1, 4)
    stem = "".join(rng.choice(syllables) for _ in range(k))
    if rng.random() < 0.15:
        stem += str(rng.randint(1, 64))
    names.add(f"{stem}.{rng.choice(exts)}")
names = sorted(names)
rng.shuffle(names)
# Zipf-like weights: a few names make most of the volume, a long tail runs once or twice.
ranks = np.arange(1, len(names) + 1)
weights = 1.0 / ranks ** 1.07
weights /= weights.sum()
counts = np_rng.multinomial(n - 60, weights)
# Look-alikes of the 30 most common names, once each: one letter changed inside the stem.
rows_extra = []
for name in names[:30]:
    stem, ext = name.rsplit(".", 1)
    if len(stem) < 3:
        continue
    i = rng.randint(1, len(stem) - 2)
    c = rng.choice([ch for ch in "abcdefghijklmnopqrstuvwxyz0" if ch != stem[i]])
    rows_extra.append(f"{stem[:i]}{c}{stem[i + 1:]}.{ext}")
folders = [r"C:\Windows\System32", r"C:\Program Files\Vendor\App", r"C:\Users\bob\AppData\Local\Temp"]
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write("TimeGenerated,EventID,Computer,SubjectUserName,SubjectDomainName,NewProcessName,CommandLine,ParentProcessName\n")
    order = np.repeat(np.arange(len(names)), counts)
    np_rng.shuffle(order)
    extra_at = set(np_rng.choice(len(order), size=len(rows_extra), replace=False).tolist())
    extra = iter(rows_extra)
    t0 = 1_709_510_400
    for i, idx in enumerate(order):
        secs = t0 + i * 604_800 // len(order)
        ts = f"{np.datetime64(secs, 's')}Z"
        if i in extra_at:
            name = next(extra)
            path = rf"C:\Windows\Temp\{name}"
            f.write(f"{ts},4688,HOST{i % 500:03d},SYSTEM,NT AUTHORITY,{path},{path},C:\\Windows\\System32\\cmd.exe\n")
        name = names[idx]
        path = rf"{folders[idx % 3]}\{name}"
        f.write(f"{ts},4688,HOST{i % 500:03d},user{i % 2000},CORP,{path},{path},C:\\Windows\\explorer.exe\n")
print(f"wrote {len(order) + len(rows_extra)} rows over {len(names) + len(rows_extra)} names to {out}")
