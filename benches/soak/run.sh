#!/usr/bin/env bash
# The soak run of issue 11 (see examples/soak.rs and README "Soak"): 16 clients, 90 %
# searches and 10 % inquiries (Idempotency-Key, retried), a rebuild and a local crawl during
# it, optionally a kill -9 or SIGTERM of the server and a restart; then every acknowledged
# inquiry is checked in the database.
#
#   DURATION=600 MODE=none|kill9|sigterm [RELEASE=1] bash benches/soak/run.sh
#
# CI does not run it. RELEASE=1 builds and runs the release binary (else debug).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=debug
if [[ "${RELEASE:-}" == 1 ]]; then
  profile=release
  cargo build --release --bin kotae
fi
# One invocation for both, so the debug binary shares the dev-dependency feature set of the
# tests' build (no second build of the dependencies).
cargo build --bin kotae --example soak
KOTAE_BIN="target/$profile/kotae" exec target/debug/examples/soak
