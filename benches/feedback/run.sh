#!/usr/bin/env bash
# Learning from answered inquiries, both directions (issue 13 §3; README "Learning from
# answered inquiries"). For each direction a fresh data directory: import localgovFAQ
# (FAQ only, as `kotae eval`), `kotae serve`, then feedback.py (search + POST /api/inquiries
# for every query of one fold, wait for the learned queries, evaluate both folds).
#   bash benches/feedback/run.sh                 # both directions, default learned weight
#   WEIGHT=1.0 DIRECTIONS=A bash benches/feedback/run.sh   # tuning: feedback from fold A only
#   KOTAE=target/release/kotae WORKERS=4 bash benches/feedback/run.sh
# Needs python3 and a built kotae (default target/debug/kotae, built here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data/localgovfaq}"
KOTAE="${KOTAE:-target/debug/kotae}"
PORT="${PORT:-7793}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -x "$KOTAE" ] || cargo build -q
for dir in ${DIRECTIONS:-A B}; do
  D="$WORK/$dir"
  mkdir -p "$D"
  # [learn] overrides for tuning: WEIGHT, K1, B, COVERAGE (min_coverage), SIMILARITY
  # (min_similarity), OVERLAP (content_overlap).
  {
    echo '[learn]'
    [ -n "${WEIGHT:-}" ] && echo "weight = $WEIGHT"
    [ -n "${K1:-}" ] && echo "k1 = $K1"
    [ -n "${B:-}" ] && echo "b = $B"
    [ -n "${COVERAGE:-}" ] && echo "min_coverage = $COVERAGE"
    [ -n "${SIMILARITY:-}" ] && echo "min_similarity = $SIMILARITY"
    [ -n "${OVERLAP:-}" ] && echo "content_overlap = $OVERLAP"
    true
  } > "$D/kotae.toml"
  "$KOTAE" --data-dir "$D" import --no-contacts "$DATA/corpus.json" >/dev/null
  "$KOTAE" --data-dir "$D" serve --addr "127.0.0.1:$PORT" >"$WORK/serve-$dir.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  python3 benches/feedback/feedback.py "http://127.0.0.1:$PORT" "$D" "$DATA" "$dir" \
    --workers "${WORKERS:-4}"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
