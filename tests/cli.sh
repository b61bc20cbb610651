#!/usr/bin/env bash
# tests/cli.sh - end-to-end tests of the kmbench command.  Usage: cli.sh KMBENCH SRCDIR CASE
# Each case is one CTest test.  A failing check prints what it expected and what it got.
set -u
KMB=$1
SRC=$2
CASE=$3
TRACE=$SRC/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL [$CASE]: $*" >&2; exit 1; }
# expect_exit CODE CMD...: runs CMD, stdout in $TMP/out, stderr in $TMP/err
expect_exit() {
	local want=$1; shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	[ "$got" = "$want" ] || fail "exit $got, expected $want: $* (stderr: $(head -c 600 "$TMP/err"))"
}
has() { grep -q -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 800 "$1")"; }
json_key() { # json_key FILE KEY VALUE: "KEY": VALUE on a line
	grep -Eq "\"$2\": $3,?\$" "$1" || fail "$1: expected \"$2\": $3, got: $(grep "\"$2\"" "$1" | head -1)"
}

case $CASE in
help)
	expect_exit 0 "$KMB" --help
	for c in run replay trace list; do has "$TMP/out" "$c"; done
	for c in run replay list "trace stat"; do expect_exit 0 "$KMB" $c --help; has "$TMP/out" usage; done
	;;
bad_usage)
	expect_exit 2 "$KMB"
	expect_exit 2 "$KMB" frobnicate
	has "$TMP/err" "unknown command 'frobnicate'"
	expect_exit 2 "$KMB" replay --bogus
	has "$TMP/err" "unknown option '--bogus'"
	has "$TMP/err" "kmbench replay --help"
	expect_exit 2 "$KMB" replay --backend nosuch
	has "$TMP/err" "unknown backend 'nosuch'"
	expect_exit 2 "$KMB" replay --mem lots
	has "$TMP/err" "bad --mem 'lots'"
	expect_exit 2 "$KMB" run --repetitions 0
	has "$TMP/err" "bad --repetitions"
	expect_exit 2 "$KMB" replay --trace
	has "$TMP/err" "needs a value"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "usage errors must be one line"
	;;
missing_file)
	expect_exit 1 "$KMB" trace stat "$TMP/nope.log"
	has "$TMP/err" "nope.log"
	expect_exit 1 "$KMB" trace stat "$TMP"
	has "$TMP/err" "$TMP"
	;;
trace_stat_facts)
	expect_exit 0 "$KMB" trace stat --json "$TRACE"
	json_key "$TMP/out" events 11540
	json_key "$TMP/out" cpus 1
	json_key "$TMP/out" failed_allocs 0
	expect_exit 0 "$KMB" trace stat "$TRACE" -o "$TMP/facts.txt"
	has "$TMP/facts.txt" "peak live bytes"
	;;
replay_buddy)
	expect_exit 0 "$KMB" replay --backend buddy --json -o "$TMP/r.json"
	for k in backend events ops_per_sec alloc_ns free_ns p50 p90 p99 p999 max \
		peak_live_bytes_req peak_live_bytes_alloc peak_footprint_bytes internal_frag_pct \
		failed_allocs unmatched_frees; do has "$TMP/r.json" "\"$k\""; done
	json_key "$TMP/r.json" failed_allocs 0
	json_key "$TMP/r.json" events 11540
	json_key "$TMP/r.json" aborted false
	expect_exit 0 "$KMB" replay --backend buddy --fault-mtbf 3 --invariants --json
	json_key "$TMP/out" failed_allocs 0
	grep -Eq '"injected_faults": [1-9]' "$TMP/out" || fail "no fault injected"
	expect_exit 0 "$KMB" replay --backend buddy --invariants
	has "$TMP/out" "Type"
	has "$TMP/out" "InUse"
	;;
replay_deadlock_is_reported)
	# 1 MiB cannot hold the boot trace's live set: M_WAITOK sleeps with no other thread
	expect_exit 1 "$KMB" replay --backend buddy --mem 1M
	has "$TMP/err" "deadlock"
	has "$TMP/err" "kmem_SLUB.log:"
	# two threads, each replaying a copy, on too little memory: reported, not hung
	expect_exit 1 "$KMB" replay --backend buddy --mem 2M --threads 2 --replicate 2
	has "$TMP/err" "deadlock"
	;;
plugin)
	so=$(dirname "$KMB")/kr-plugin.so
	[ -f "$so" ] || { echo "kr-plugin not built (KMB_BACKENDS): skipped"; exit 77; }
	expect_exit 0 "$KMB" replay --backend "plugin:$so" --json
	json_key "$TMP/out" failed_allocs 0
	has "$TMP/out" "\"backend\": \"plugin:$so\""
	expect_exit 2 "$KMB" replay --backend "plugin:$TMP/none.so"
	has "$TMP/err" "cannot load plugin"
	expect_exit 2 "$KMB" replay --backend "buddy@nosuch"
	has "$TMP/err" "page source"
	;;
replay_threads)
	expect_exit 0 "$KMB" replay --backend buddy --threads 2 --replicate 2 --json
	json_key "$TMP/out" threads 2
	json_key "$TMP/out" allocs 17286
	json_key "$TMP/out" failed_allocs 0
	expect_exit 0 "$KMB" replay --backend buddy --threads 2 --replicate 2 --order strict --json
	json_key "$TMP/out" allocs 17286
	json_key "$TMP/out" order '"strict"'
	expect_exit 0 "$KMB" replay --backend buddy --repeat 2 --json
	json_key "$TMP/out" allocs 17286
	expect_exit 0 "$KMB" replay --backend buddy --threads 4 --replicate 4 \
		--topology "node:2 core:2 pu:1" --samples "$TMP/s.csv"
	has "$TMP/out" "node 0: "
	has "$TMP/out" "node 1: "
	has "$TMP/out" "4 threads (0 bound)"
	has "$TMP/s.csv" "^ops,live_objects,live_bytes_req"
	[ "$(wc -l <"$TMP/s.csv")" -gt 900 ] || fail "too few samples"
	# --pace: the boot trace spans 0.17 s .. 0.61 s; at a tenth of that, >= 44 ms
	expect_exit 0 "$KMB" replay --backend buddy --pace timestamps=0.1 --json
	awk -F': ' '/"seconds"/ { exit !($2 + 0 >= 0.044) }' "$TMP/out" || fail "--pace did not pace"
	has "$TMP/out" '"by_size"'
	expect_exit 2 "$KMB" replay --pace fast
	expect_exit 2 "$KMB" replay --topology "bogus:9"
	has "$TMP/err" "bad --topology"
	expect_exit 2 "$KMB" replay --threads 0
	expect_exit 2 "$KMB" replay --order random
	;;
run_quick)
	expect_exit 0 "$KMB" run --quick --repetitions 2 --out "$TMP/runs" --seed 7
	d=$(ls -d "$TMP"/runs/*/ | head -1)
	for f in run.json summary.csv repetitions.csv latency.png latency.svg latency.gp latency.dat \
		buddy-linux-3.6-boot.alloc.hgrm buddy-linux-3.6-boot.free.hgrm \
		replay/buddy-linux-3.6-boot-r1.json replay/buddy-linux-3.6-boot-r2.json; do
		[ -s "$d/$f" ] || fail "missing $d$f"
	done
	json_key "$d/run.json" complete true
	has "$d/summary.csv" "^backend,workload,repetitions,ops_per_sec_median"
	has "$d/summary.csv" "^buddy,linux-3.6-boot,2,"
	head -c 8 "$d/latency.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "latency.png is not a PNG"
	# a second run never overwrites the first
	expect_exit 0 "$KMB" run --quick --repetitions 1 --out "$TMP/runs" --seed 7
	[ "$(ls -d "$TMP"/runs/*/ | wc -l)" = 2 ] || fail "second run reused a directory"
	;;
run_without_gnuplot)
	KMB_GNUPLOT=/nonexistent/gnuplot expect_exit 1 "$KMB" run --quick --repetitions 1 --out "$TMP/runs"
	has "$TMP/err" "gnuplot not found: apt-get install gnuplot-nox"
	d=$(ls -d "$TMP"/runs/*/ | head -1)
	[ -s "$d/summary.csv" ] && [ -s "$d/latency.gp" ] && [ -s "$d/latency.dat" ] || fail "data not kept"
	;;
*)
	fail "no such case"
	;;
esac
exit 0
