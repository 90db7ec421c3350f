#!/usr/bin/env python3
"""R@10, nDCG@10, MRR@10 of TREC run files on all localgovFAQ queries and on each half.

Halves are `kotae eval --half`'s (low bit of the FNV-1a hash of the query id: even `tune`,
odd `heldout`); metrics as src/eval.rs defines them (benches/feedback/feedback.py's
`evaluate`). Usage: halves.py LOCALGOVFAQ_DIR NAME=RUN.trec ...   Prints a Markdown table.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "feedback"))
from feedback import evaluate, fnv1a_fold  # noqa: E402


def load(path):
    rows = [line.split() for line in open(path, encoding="utf-8") if line.strip()]
    rows.sort(key=lambda x: (x[0], int(x[3])))
    run = collections.defaultdict(list)
    for r in rows:
        run[r[0]].append(r[2])
    return run


def main():
    data = sys.argv[1]
    qrels = json.load(open(os.path.join(data, "qrels.json"), encoding="utf-8"))
    queries = list(json.load(open(os.path.join(data, "queries.json"), encoding="utf-8")))
    parts = {"all": queries,
             "tune": [q for q in queries if fnv1a_fold(q) == "A"],
             "heldout": [q for q in queries if fnv1a_fold(q) == "B"]}
    head = " | ".join(f"{p} R@10 | nDCG@10 | MRR@10" for p in parts)
    print(f"| run | {head} |")
    print("|---" * (1 + 3 * len(parts)) + "|")
    for arg in sys.argv[2:]:
        name, path = arg.rsplit("=", 1)
        run = load(path)
        cells = []
        for qids in parts.values():
            m = evaluate(run, qrels, qids)
            cells += [f"{m['R@10']:.3f}", f"{m['nDCG@10']:.3f}", f"{m['MRR@10']:.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
