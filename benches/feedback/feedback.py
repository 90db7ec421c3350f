#!/usr/bin/env python3
"""Learning from answered inquiries, measured honestly over HTTP (issue 13 §3).

For one direction (feedback fold -> evaluated fold) on a running `kotae serve` over the
localgovFAQ corpus:
  1. evaluate both folds over HTTP (before),
  2. for each query of the feedback fold: GET /api/search, then POST /api/inquiries
     `answered` with that query's judged grade-2 materials and the search's query_id,
  3. wait until GET /api/status reports the learned queries served,
  4. evaluate both folds again (after), and separately the evaluated fold's queries none of
     whose relevant materials got feedback.
Folds are `kotae eval --half`'s: the low bit of the 64-bit FNV-1a hash of the query id
(even: `tune` = fold A, odd: `heldout` = fold B). Metrics at 10 as src/eval.rs defines them
(grade >= 1 relevant, nDCG gain = grade, ideal DCG over all judged documents).

Usage: feedback.py BASE_URL DATA_DIR_OF_SERVER LOCALGOVFAQ_DIR FEEDBACK_FOLD(A|B) [--workers N]
Prints one JSON object.
"""
import concurrent.futures
import hashlib
import json
import math
import os
import sys
import time
import urllib.parse
import urllib.request


def fnv1a_fold(qid):
    h = 0xCBF29CE484222325
    for b in qid.encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "A" if h & 1 == 0 else "B"


def evaluate(run, qrels, qids, k=10):
    n = r = nd = mrr = 0.0
    for qid in sorted(qids):
        judged = qrels.get(qid, {})
        n_rel = sum(1 for g in judged.values() if g >= 1)
        if n_rel == 0:
            continue
        n += 1
        top = run.get(qid, [])[:k]
        grade = lambda d: judged.get(d, 0)
        r += sum(1 for d in top if grade(d) >= 1) / n_rel
        dcg = sum(grade(d) / math.log2(i + 2) for i, d in enumerate(top))
        ideal = sorted(judged.values(), reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        if idcg > 0:
            nd += dcg / idcg
        for i, d in enumerate(top):
            if grade(d) >= 1:
                mrr += 1 / (i + 1)
                break
    if n == 0:
        return {"queries": 0}
    return {"queries": int(n), "R@10": round(r / n, 4), "nDCG@10": round(nd / n, 4),
            "MRR@10": round(mrr / n, 4)}


class Client:
    def __init__(self, base):
        self.base = base
        self.requests = 0
        self.errors = 0

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())
        except Exception as e:  # counted, reported
            self.errors += 1
            sys.stderr.write(f"{method} {path[:80]}: {e}\n")
            return None

    def search(self, q, limit=10):
        return self.call("GET", "/api/search?" + urllib.parse.urlencode({"q": q, "limit": limit}))


def material_ids(data_dir):
    """source_id -> material id, from the imported corpus collection."""
    out = {}
    for root, _, files in os.walk(os.path.join(data_dir, "corpus")):
        for f in files:
            if not f.endswith(".jsonl"):
                continue
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    m = json.loads(line)
                    mid = m.get("id") or hashlib.sha256(
                        (m["source"] + "\n" + m["source_id"]).encode()).hexdigest()[:16]
                    out[m["source_id"]] = mid
    return out


def run_fold(client, queries, qids, workers):
    def one(qid):
        r = client.search(queries[qid])
        return qid, [h["source_id"] for h in (r or {}).get("hits", [])]
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return dict(ex.map(one, qids))


def main():
    base, data_dir, lg, fold = sys.argv[1:5]
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 4
    queries = json.load(open(os.path.join(lg, "queries.json"), encoding="utf-8"))
    qrels = json.load(open(os.path.join(lg, "qrels.json"), encoding="utf-8"))
    folds = {"A": [], "B": []}
    for qid in queries:
        folds[fnv1a_fold(qid)].append(qid)
    other = "B" if fold == "A" else "A"
    ids = material_ids(data_dir)
    c = Client(base)
    out = {"feedback_fold": fold, "evaluated_fold": other,
           "folds": {k: len(v) for k, v in folds.items()}}
    started = time.time()
    before = {f: run_fold(c, queries, folds[f], workers) for f in ("A", "B")}

    # Feedback: search, then the answered inquiry with that search's query_id.
    fed = set()
    posted = 0

    def feed(qid):
        grade2 = [d for d, g in qrels.get(qid, {}).items() if g == 2 and d in ids]
        if not grade2:
            return None
        r = c.search(queries[qid])
        if not r:
            return None
        body = {"channel": "phone", "outcome": "answered", "query_id": r["query_id"],
                "material_ids": [ids[d] for d in grade2]}
        ok = c.call("POST", "/api/inquiries", body)
        return grade2 if ok else None

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for got in ex.map(feed, folds[fold]):
            if got:
                posted += 1
                fed.update(got)
    feed_s = time.time() - t0
    # Wait for the learned index to serve the evidence (unchanged for 5 s: a refresh of a
    # debug build on a loaded machine can take seconds).
    t1 = time.time()
    last, stable_since = None, time.time()
    while time.time() - t1 < 120:
        s = c.call("GET", "/api/status") or {}
        cur = (s.get("learned") or {}).get("queries")
        if cur != last:
            last, stable_since = cur, time.time()
        elif cur and time.time() - stable_since >= 5:
            break
        time.sleep(0.25)
    out["learned"] = (c.call("GET", "/api/status") or {}).get("learned")
    out["inquiries_posted"] = posted
    out["materials_fed"] = len(fed)
    out["feedback_seconds"] = round(feed_s, 2)
    out["apply_wait_seconds"] = round(stable_since - t1, 2)

    after = {f: run_fold(c, queries, folds[f], workers) for f in ("A", "B")}
    elapsed = time.time() - started
    unseen = [q for q in folds[other]
              if not any(d in fed for d, g in qrels.get(q, {}).items() if g >= 1)]
    out["before"] = {f: evaluate(before[f], qrels, folds[f]) for f in ("A", "B")}
    out["after"] = {f: evaluate(after[f], qrels, folds[f]) for f in ("A", "B")}
    out["unfed_queries_of_evaluated_fold"] = {
        "before": evaluate(before[other], qrels, unseen),
        "after": evaluate(after[other], qrels, unseen),
    }
    d = out["after"][other].get("nDCG@10", 0) - out["before"][other].get("nDCG@10", 0)
    out["evaluated_fold_nDCG_gain"] = round(d, 4)
    out["load"] = {"requests": c.requests, "errors": c.errors, "seconds": round(elapsed, 1),
                   "requests_per_second": round(c.requests / elapsed, 1), "workers": workers}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
