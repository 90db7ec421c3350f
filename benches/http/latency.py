#!/usr/bin/env python3
"""HTTP latency of kotae's /api/search, one query at a time, with the same plain Python client
loop as the Groonga anchor (../shared/tools/anchors/groonga_http_latency.py): urllib, a new
connection per request, top 10. Prints p50/p95/p99 ms last.

usage: latency.py BASE_URL QUERIES_JSON [PASSES]
  BASE_URL      e.g. http://127.0.0.1:7700
  QUERIES_JSON  {id: text}, e.g. ../shared/data/localgovfaq/queries.json
  PASSES        timed passes after one warm-up pass (default 1)
"""
import json, sys, time, urllib.parse, urllib.request

base, queries = sys.argv[1].rstrip('/'), json.load(open(sys.argv[2], encoding='utf-8'))
passes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
lat = []
for p in range(passes + 1):
    for qid, text in queries.items():
        url = base + '/api/search?' + urllib.parse.urlencode({'q': text, 'limit': '10'},
                                                              quote_via=urllib.parse.quote)
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
        if p > 0:
            lat.append((time.perf_counter() - t0) * 1000)
lat.sort(); q = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))]
print(f'kotae_http queries {len(lat)} p50 {q(0.5):.3f} p95 {q(0.95):.3f} p99 {q(0.99):.3f}')
