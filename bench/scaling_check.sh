#!/usr/bin/env bash
# bench/scaling_check.sh - does a second replay thread measure the allocator, or kmbench?
# (issue 11's scaling target).  Usage: bench/scaling_check.sh [KMBENCH] [RUNS] [EVENTS]
#
# On a generated one-CPU larson trace (EVENTS events, default 1 million, in a temporary
# directory), per backend, RUNS times (default 5), side by side and interleaved (the order
# of the two forms alternates from run to run, so that a noisy neighbour hits both alike):
#   threads    one `kmbench replay --threads 2 --replicate 2 --no-timing --warmup 1` (two
#              copies, one per thread: mapping "copies", no cross-thread frees)
#   processes  two single-thread `kmbench replay --no-timing --warmup 1` started together;
#              aggregate = the sum of their ops/s (each one's loop time), CPU rate = their
#              operations over their summed CPU time
# (one untimed warm-up pass each: every backend measured with its memory faulted in)
# and prints the median aggregate of each with the CPU-time rate (operations per CPU-second)
# beside it, and the ratios threads / processes.  A ratio near 1 means the threads pay no
# more than separate processes do: what is left is the allocator's own sharing (a global
# lock), not the engine's.  KMB_SCALING_BACKENDS overrides the backend list.
set -eu
KMB=${1:-./build/kmbench}
RUNS=${2:-5}
EVENTS=${3:-1000000}
BACKENDS=${KMB_SCALING_BACKENDS:-slab vmem bucket buddy jemalloc mimalloc libc}
[ -x "$KMB" ] || { echo "scaling_check: no kmbench at $KMB (build first)" >&2; exit 2; }
# backends this build has (KMB_BACKENDS may leave some out)
known=$("$KMB" list | awk '/^page sources:/ { exit } NR > 1 { print $1 }')
kept=""
for b in $BACKENDS; do
	if grep -qx -- "$b" <<<"$known"; then kept="$kept $b"; else echo "scaling_check: $b not built: skipped" >&2; fi
done
BACKENDS=$kept
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
TRACE=$DIR/larson.kmt
"$KMB" trace gen larson --events "$EVENTS" --cpus 1 --seed 1 -o "$TRACE" >/dev/null

# replay_figures FILE: "OPS WALL_S CPU_S" from a replay's text output
replay_figures() {
	awk '/^  events .* operations .* ms: / { ops = $4; sub(/,$/, "", ops); wall = $6 / 1e3 }
	     /^  CPU time / { cpu = $3 / 1e3 }
	     END { if (ops == "" || cpu == "") exit 1; print ops, wall, cpu }' "$1"
}

# one_threads B: "threads B OPS/S OPS/CPU-S"
one_threads() {
	local ops wall cpu
	"$KMB" replay -b "$1" -t "$TRACE" --threads 2 --replicate 2 --no-timing --warmup 1 >"$DIR/t.out"
	read -r ops wall cpu < <(replay_figures "$DIR/t.out")
	awk -v b="$1" -v o="$ops" -v w="$wall" -v c="$cpu" 'BEGIN { print "threads", b, o / w, o / c }'
}

# one_processes B: "processes B SUM(OPS/S) OPS/CPU-S"
one_processes() {
	local o1 w1 c1 o2 w2 c2
	"$KMB" replay -b "$1" -t "$TRACE" --no-timing --warmup 1 >"$DIR/p1.out" &
	"$KMB" replay -b "$1" -t "$TRACE" --no-timing --warmup 1 >"$DIR/p2.out" &
	wait
	read -r o1 w1 c1 < <(replay_figures "$DIR/p1.out")
	read -r o2 w2 c2 < <(replay_figures "$DIR/p2.out")
	awk -v b="$1" -v o1="$o1" -v w1="$w1" -v c1="$c1" -v o2="$o2" -v w2="$w2" -v c2="$c2" \
		'BEGIN { print "processes", b, o1 / w1 + o2 / w2, (o1 + o2) / (c1 + c2) }'
}

for ((r = 0; r < RUNS; r++)); do
	for b in $BACKENDS; do
		if ((r % 2 == 0)); then
			one_threads "$b"
			one_processes "$b"
		else
			one_processes "$b"
			one_threads "$b"
		fi
	done
done >"$DIR/all"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%d runs of %s events, 2 threads x 2 copies against 2 processes x 1 copy (medians)\n' \
	"$RUNS" "$EVENTS"
printf '%-10s %12s %12s %7s   %12s %12s %7s\n' backend "threads/s" "procs/s" ratio \
	"thr/cpu-s" "procs/cpu-s" ratio
for b in $BACKENDS; do
	tw=$(awk -v b="$b" '$1 == "threads" && $2 == b { print $3 }' "$DIR/all" | median)
	pw=$(awk -v b="$b" '$1 == "processes" && $2 == b { print $3 }' "$DIR/all" | median)
	tc=$(awk -v b="$b" '$1 == "threads" && $2 == b { print $4 }' "$DIR/all" | median)
	pc=$(awk -v b="$b" '$1 == "processes" && $2 == b { print $4 }' "$DIR/all" | median)
	awk -v b="$b" -v tw="$tw" -v pw="$pw" -v tc="$tc" -v pc="$pc" 'BEGIN {
		printf "%-10s %10.2f M %10.2f M %7.2f   %10.2f M %10.2f M %7.2f\n",
		       b, tw / 1e6, pw / 1e6, tw / pw, tc / 1e6, pc / 1e6, tc / pc }'
done
