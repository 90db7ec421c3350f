#!/usr/bin/env bash
# Scale benchmark (issue 14): N synthetic page materials from the shared generator, indexed and
# served by kotae, the 749 localgovFAQ queries over HTTP one at a time and with 16 concurrent
# clients; Groonga on the same N side by side when it is installed. Loopback only.
#
#   N=100000 bash benches/scale/run.sh       # default N = 100000; needs a release build,
#                                            # python3, /usr/bin/time; Groonga: groonga-bin,
#                                            # groonga-tokenizer-mecab, mecab-naist-jdic
#   SKIP_GROONGA=1 ROUNDS="1 2 3" CLIENTS=16 PASSES=3 KEEP=dir …
#   KEEP=/tmp/scale REUSE=1 …                # keep the work directory; with REUSE, reuse the
#                                            # corpus, index and Groonga DB already in it
#   PROFILE=debug …                          # the debug build (dependencies at opt-level 2,
#                                            # kotae unoptimized) when a release build does not
#                                            # fit; say so with the figures
#
# Reports: indexing wall time and peak RSS, index size, `kotae serve` resident memory after
# the runs, the per-query ranking cost (examples/scale_cost: MaxScore vs exhaustive, and a
# check that both give the same top 10), p50/p95/p99 one at a time (benches/http/latency.py,
# the client of the issue's figures), and p50/p95/p99 + throughput with CLIENTS clients
# (examples/http_load). Timings on a shared machine move with its load: say what else ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-100000}"
DATA="${DATA:-../shared/data/localgovfaq}"
GEN="${GEN:-../shared/tools/scale/gen_scale_corpus.py}"
ANCHORS="${ANCHORS:-../shared/tools/anchors}"
WORK="${KEEP:-$(mktemp -d)}"
mkdir -p "$WORK"
cleanup() { kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
say() { echo "== $*"; }

PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release -q --bin kotae --example scale_cost --example http_load
else
  cargo build -q --bin kotae --example scale_cost --example http_load
fi
KOTAE=./target/$PROFILE/kotae
say "N = $N materials ($PROFILE build); load average $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$WORK/kotae/corpus"
if [ ! -s "$WORK/kotae/corpus/scale.jsonl" ]; then
  python3 "$GEN" "$DATA/corpus.json" "$N" "$WORK/kotae/corpus/scale.jsonl"
fi
if [ -n "${REUSE:-}" ] && [ -s "$WORK/kotae/index/kotae-manifest.txt" ]; then
  say "reusing the index in $WORK/kotae/index"
else
  say "indexing (kotae index --rebuild)"
  /usr/bin/time -f "index: %e s wall, %M KiB peak RSS" \
    "$KOTAE" --data-dir "$WORK/kotae" index --rebuild 2>&1 | grep -v '^\s*$' | tail -2
fi
echo "index size: $(du -sh "$WORK/kotae/index" | cut -f1)"

say "per-query ranking cost, in process (MaxScore vs exhaustive; same top 10 required)"
./target/$PROFILE/examples/scale_cost "$WORK/kotae" "$DATA/queries.json" both 1 10

"$KOTAE" --data-dir "$WORK/kotae" serve --addr 127.0.0.1:7791 >"$WORK/kotae.log" 2>&1 &
KPID=$!
for _ in $(seq 600); do curl -sf http://127.0.0.1:7791/healthz >/dev/null && break; sleep 0.2; done

GROONGA_OK=
if [ -z "${SKIP_GROONGA:-}" ] && command -v groonga >/dev/null; then
  if [ -n "${REUSE:-}" ] && [ -e "$WORK/gout/groonga/mecab/db" ]; then
    say "Groonga: reusing $WORK/gout/groonga/mecab/db"
    GROONGA_OK=1
  else
    say "Groonga: building the same $N documents (TokenMecab, groonga_bench.py)"
    mkdir -p "$WORK/gdata"
    python3 "$GEN" "$DATA/corpus.json" "$N" "$WORK/gdata/corpus.json" --groonga
    cp "$DATA/queries.json" "$WORK/gdata/queries.json"
    python3 "$ANCHORS/groonga_bench.py" --data "$WORK/gdata" --out "$WORK/gout" \
      --mecabrc "$ANCHORS/mecabrc.naist-jdic" >"$WORK/groonga_bench.log" 2>&1 \
      && GROONGA_OK=1 || echo "groonga_bench.py failed: see $WORK/groonga_bench.log"
  fi
  if [ -n "$GROONGA_OK" ]; then
    MECABRC="$ANCHORS/mecabrc.naist-jdic" groonga -s --protocol http --bind-address 127.0.0.1 \
      --port 7792 "$WORK/gout/groonga/mecab/db" &
    sleep 2
  fi
fi

for round in ${ROUNDS:-1 2}; do
  say "round $round: one query at a time (749 queries, new connection each, Python client)"
  python3 benches/http/latency.py http://127.0.0.1:7791 "$DATA/queries.json"
  if [ -n "$GROONGA_OK" ]; then
    python3 "$ANCHORS/groonga_http_latency.py" http://127.0.0.1:7792 "$WORK/gout/groonga.query_words.json"
  fi
done

say "${CLIENTS:-16} concurrent clients, ${PASSES:-3} passes over the queries (keep-alive, Rust client)"
./target/$PROFILE/examples/http_load http://127.0.0.1:7791 "$DATA/queries.json" "${CLIENTS:-16}" "${PASSES:-3}"
echo "kotae serve resident: $(grep VmRSS /proc/$KPID/status | awk '{print $2, $3}'), peak $(grep VmHWM /proc/$KPID/status | awk '{print $2, $3}')"
say "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
