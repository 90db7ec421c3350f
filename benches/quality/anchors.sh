#!/usr/bin/env bash
# kotae beside the anchors (Lucene 9.5 + kuromoji via pyserini, Groonga, bm25s-j) on all
# localgovFAQ queries and on each half, in both query shapes: the citizens' sentences and
# their terse keyword form (`kotae eval --terse`: at most 3 nouns, as operators type).
#   bash benches/quality/anchors.sh          # README "Quality" tables
#   ANCHORS=/tmp/anchors KOTAE=target/release/kotae bash benches/quality/anchors.sh
# The anchors are set up once in a writable copy of ../shared/tools/anchors (its setup.sh:
# apt + PyPI, about 3 minutes; its run.sh about 13 minutes, mostly bm25s-j's tokenizer).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="$(realpath "${DATA:-../shared/data/localgovfaq}")"
ANCHORS="${ANCHORS:-/tmp/kotae-anchors}"
KOTAE="${KOTAE:-target/debug/kotae}"
OUT="${OUT:-$ANCHORS/kotae-out}"
[ -x "$KOTAE" ] || cargo build -q
if [ ! -x "$ANCHORS/.venv/bin/python" ]; then
  mkdir -p "$ANCHORS"
  cp -r ../shared/tools/anchors/. "$ANCHORS/"
  chmod -R u+w "$ANCHORS"
  (cd "$ANCHORS" && bash setup.sh)
fi
[ -f "$ANCHORS/out/run.lucene-bm25-es.java.trec" ] ||
  (cd "$ANCHORS" && DATA="$DATA" OUT="$ANCHORS/out" bash run.sh)
mkdir -p "$OUT/terse"
ln -sf "$DATA/corpus.json" "$OUT/terse/corpus.json"
ln -sf "$DATA/qrels.json" "$OUT/terse/qrels.json"
E=(eval --corpus "$DATA/corpus.json" --queries "$DATA/queries.json" --qrels "$DATA/qrels.json")
"$KOTAE" "${E[@]}" --run "$OUT/kotae.trec" >/dev/null 2>&1
"$KOTAE" "${E[@]}" --terse --write-queries "$OUT/terse/queries.json" --run "$OUT/kotae.terse.trec" >/dev/null 2>&1
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
export JAVA_HOME
[ -f "$OUT/lucene-terse/run.lucene-bm25-es.trec" ] ||
  (cd "$ANCHORS" && .venv/bin/python lucene_bm25.py --data "$OUT/terse" --out "$OUT/lucene-terse" >"$OUT/lucene-terse.log" 2>&1)
A="$ANCHORS/out"
echo "sentences (queries.json as written):"
python3 benches/quality/halves.py "$DATA" "kotae=$OUT/kotae.trec" \
  "Lucene BM25 k1=1.2 b=0.75=$A/run.lucene-bm25-es.java.trec" \
  "Lucene BM25 k1=0.9 b=0.4=$A/run.lucene-bm25-anserini.java.trec" \
  "Groonga TokenMecab tf-idf=$A/run.groonga-mecab-tfidf.trec" \
  "bm25s-j k1=1.5 b=0.75=$A/run.bm25sj-default.trec"
echo
echo "terse (kotae eval --terse):"
python3 benches/quality/halves.py "$DATA" "kotae=$OUT/kotae.terse.trec" \
  "Lucene BM25 k1=1.2 b=0.75=$OUT/lucene-terse/run.lucene-bm25-es.trec" \
  "Lucene BM25 k1=0.9 b=0.4=$OUT/lucene-terse/run.lucene-bm25-anserini.trec"
