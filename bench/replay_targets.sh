#!/usr/bin/env bash
# bench/replay_targets.sh - replay throughput and timer cost, measured by kmbench itself
# (issue 6's replay targets).  Usage: bench/replay_targets.sh [KMBENCH] [RUNS] [EVENTS]
#
# Generates an EVENTS-event (default 10 million) larson trace as .kmt (once, in
# results/runs/), then replays
# it on the slab backend, one thread, RUNS times (default 5) in each timing mode, the modes
# interleaved so that a noisy neighbour hits them alike, and prints the median events/s of
# each mode and what timing costs per operation (from the medians, against --no-timing).
set -eu
KMB=${1:-./build/kmbench}
RUNS=${2:-5}
EVENTS=${3:-10000000}
DIR=$(dirname "$0")/../results/runs
TRACE=$DIR/larson-$EVENTS.kmt
mkdir -p "$DIR"
[ -x "$KMB" ] || { echo "replay_targets: no kmbench at $KMB (build first)" >&2; exit 2; }
if [ ! -f "$TRACE" ]; then
	"$KMB" trace gen larson --events "$EVENTS" --cpus 1 --seed 1 -o "$TRACE" >/dev/null
fi

modes=("--no-timing" "--latency-every 16" "--latency-every 4" "")
names=("no timing" "1 in 16 timed" "1 in 4 timed" "every op timed")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 0; r < RUNS; r++)); do
	for ((m = 0; m < ${#modes[@]}; m++)); do
		# shellcheck disable=SC2086 # the mode is two words or none
		"$KMB" replay --backend slab --trace "$TRACE" ${modes[m]} --json |
			awk -v m="$m" -F': ' '/"ops_per_sec"/ { sub(/,$/, "", $2); print m, $2 }' >>"$out"
	done
done
printf '%-16s %14s %18s\n' "mode" "events/s" "timing ns/op"
for ((m = 0; m < ${#modes[@]}; m++)); do
	med=$(awk -v m="$m" '$1 == m { print $2 }' "$out" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	[ "$m" = 0 ] && base=$med
	awk -v n="${names[m]}" -v v="$med" -v b="$base" \
		'BEGIN { printf "%-16s %12.2f M %18.1f\n", n, v / 1e6, 1e9 / v - 1e9 / b }'
done
