#!/usr/bin/env bash
# The IRC anchor runs behind docs/benchmarks.md "Against the anchors": ngIRCd and InspIRCd
# (Debian: apt-get install -y ngircd inspircd; a C compiler builds the TCP_NODELAY shim)
# driven by the same load generator, text format and counting as chatapp's runs.
# Usage: bench/irc/compare.sh [repeat]   (after `npm run build`; JSON lines go to bench/results/)
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat="${1:-3}"
out="bench/results/irc-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
run() { node dist/bench/irc/run-irc.js "$@" | tee -a "$out"; }
for server in ngircd inspircd; do
  for nodelay in "" --nodelay; do
    run --server "$server" $nodelay --scenario paced --clients 100 --messages 160 --rate 20 --repeat "$repeat"
    run --server "$server" $nodelay --scenario fanout --clients 100 --messages 500 --window 8 --repeat "$repeat"
  done
  # Idle memory does not depend on Nagle; NODELAY only makes the join storm (O(N²) JOIN notices) finish sooner.
  run --server "$server" --nodelay --scenario idle --clients 2000
done
# chatapp's idle at the same client counts (400 → 2,000), for a like-for-like memory slope.
node dist/bench/run.js --json --scenario idle --clients 2000 | tee -a "$out"
echo "results: $out" >&2
