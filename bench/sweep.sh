#!/usr/bin/env bash
# Scaling runs behind docs/benchmarks.md: cost vs members and vs message size.
# Usage: bench/sweep.sh [repeat]   (after `npm run build`; JSON lines go to bench/results/)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-1}"
out="bench/results/sweep-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p bench/results
run() { node dist/bench/run.js --json --repeat "$repeat" "$@" | tee -a "$out"; }
# members (16 B text); window 8 up to 100 members, 1 beyond (in-flight deliveries grow as N² × window)
run --scenario fanout --clients 10 --messages 5000 --window 8
run --scenario fanout --clients 100 --messages 500 --window 8
run --scenario fanout --clients 500 --messages 20 --window 1
run --scenario fanout --clients 1000 --messages 5 --window 1
# window at 100 members
for w in 1 4 16 64; do run --scenario fanout --clients 100 --messages 300 --window "$w"; done
# message size at 100 members
run --scenario fanout --clients 100 --messages 500 --window 8 --size 256
run --scenario fanout --clients 100 --messages 100 --window 8 --size 4096
run --scenario fanout --clients 100 --messages 100 --window 1 --size 4096
# paced latency vs members
for n in 10 100 200; do run --scenario paced --clients "$n" --messages 100 --rate 20; done
# idle memory vs clients
for n in 500 1000 2000; do run --scenario idle --clients "$n"; done
echo "results: $out" >&2
