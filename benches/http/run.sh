#!/usr/bin/env bash
# HTTP load test, kotae and Groonga side by side in one run (loopback only, bounded in time).
#   bash benches/http/run.sh           # needs: a release build, python3, wrk; for the Groonga
#                                      # side, groonga + the DB built by the anchors'
#                                      # groonga_bench.py (GROONGA_DB=…/out/groonga/mecab/db)
#   ROUNDS="1 2 3 4" bash benches/http/run.sh   # more one-at-a-time rounds (default: 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data/localgovfaq}"
ANCHORS="${ANCHORS:-../shared/tools/anchors}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q
# kotae over the localgovFAQ corpus.
mkdir -p "$WORK/kotae"
./target/release/kotae --data-dir "$WORK/kotae" import --no-contacts "$DATA/corpus.json" >/dev/null
./target/release/kotae --data-dir "$WORK/kotae" serve --addr 127.0.0.1:7791 >"$WORK/kotae.log" 2>&1 &
for _ in $(seq 100); do curl -sf http://127.0.0.1:7791/healthz >/dev/null && break; sleep 0.2; done

if [ -n "${GROONGA_DB:-}" ] && command -v groonga >/dev/null; then
  cp -r "$(dirname "$GROONGA_DB")" "$WORK/groonga"
  groonga -s --protocol http --bind-address 127.0.0.1 --port 7792 "$WORK/groonga/$(basename "$GROONGA_DB")" &
  sleep 1
fi

for round in ${ROUNDS:-1 2}; do
  echo "== round $round: one query at a time (749 queries)"
  python3 benches/http/latency.py http://127.0.0.1:7791 "$DATA/queries.json"
  if [ -n "${GROONGA_DB:-}" ]; then
    python3 "$ANCHORS/groonga_http_latency.py" http://127.0.0.1:7792 "${GROONGA_WORDS:-$(dirname "$(dirname "$(dirname "$GROONGA_DB")")")/groonga.query_words.json}"
  fi
done

echo "== throughput: 16 concurrent connections, 20 s (wrk)"
python3 benches/http/paths.py "$DATA/queries.json" > "$WORK/paths.txt"
KOTAE_PATHS="$WORK/paths.txt" wrk -t2 -c16 -d20s --latency -s benches/http/rotate.lua http://127.0.0.1:7791
