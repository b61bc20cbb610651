#!/usr/bin/env bash
# tests/cli.sh - end-to-end tests of the kmbench command.  Usage: cli.sh KMBENCH SRCDIR CASE
# Each case is one CTest test.  A failing check prints what it expected and what it got.
set -u
[ -n "${KMB_TRACE_CLI:-}" ] && set -x
KMB=$1
SRC=$2
CASE=$3
TRACE=$SRC/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME=$TMP/config # kmbench run's script key (results/script_tag.c)

fail() { echo "FAIL [$CASE]: $*" >&2; exit 1; }
# The cases are written around the built-in designs (buddy as replay's default, slab, bucket,
# vmem, the baselines): a build that leaves one out (-DKMB_BACKENDS) skips them, saying so.
built=$("$KMB" list --json 2>/dev/null | tr -d '\n' | grep -o '"backends": *\[[^]]*\]')
for b in buddy slab bucket vmem libc; do
	case "$built" in *"\"$b\""*) ;; *)
		echo "SKIP [$CASE]: this build has no '$b' backend (-DKMB_BACKENDS)"
		exit 77 ;;
	esac
done
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
spec_tunables)
	# tunables in specs (core/spec.c): listed, checked (one line, exit 2), recorded whole;
	# one design at two settings is two rows, its files under a file-safe name
	expect_exit 0 "$KMB" list
	has "$TMP/out" "magsize=0 *\[0..143\]"
	has "$TMP/out" "qcache_max=256 *\[0..256\]"
	has "$TMP/out" "pcp_batch=0 *\[0..1024\]"
	expect_exit 0 "$KMB" list --json
	has "$TMP/out" '{"backend": "slab", "key": "magsize", "default": 0, "min": 0, "max": 143'
	has "$TMP/out" '{"page_source": "buddy", "key": "pcp_high"'
	expect_exit 2 "$KMB" replay --backend 'slab(magsize=500)'
	has "$TMP/err" "backend spec 'slab(magsize=500)': magsize=500 out of bounds 0..143"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "a bad spec must be one line"
	expect_exit 2 "$KMB" replay --backend 'slab@buddy(pcp_batch=x)'
	has "$TMP/err" "pcp_batch: 'x' is not an integer"
	expect_exit 2 "$KMB" run --backends 'slab,slab(nope=1)'
	has "$TMP/err" "slab has no tunable 'nope' (tunables: magsize)"
	expect_exit 2 "$KMB" run --backends 'slab(magsize=1),slab(magsize=1)'
	has "$TMP/err" "lists 'slab(magsize=1)' twice"
	expect_exit 0 "$KMB" replay --backend 'slab(magsize=1)@buddy(pcp_batch=4,pcp_high=8)' --json
	json_key "$TMP/out" backend '"slab\(magsize=1\)@buddy\(pcp_batch=4,pcp_high=8\)"'
	expect_exit 0 "$KMB" run --backends 'slab,slab(magsize=1)@buddy(pcp_batch=4,pcp_high=8)' \
		--workloads linux-3.6-boot --threads 1 --repetitions 1 --ops 20000 --out "$TMP/r"
	d=$(ls -d "$TMP"/r/*/ | head -1)
	has "$d/run.json" '"slab(magsize=1)@buddy(pcp_batch=4,pcp_high=8)"'
	has "$d/summary.csv" '^slab,linux-3.6-boot,'
	has "$d/summary.csv" '^"slab(magsize=1)@buddy(pcp_batch=4,pcp_high=8)",linux-3.6-boot,'
	[ -f "$d/replay/slab_magsize_1_@buddy_pcp_batch_4_pcp_high_8_-linux-3.6-boot-r1.json" ] ||
		fail "no file-safe replay file: $(ls "$d/replay")"
	# (Markdown escapes the underscores)
	has "$d/report.md" '^| [0-9] | slab(magsize=1)@buddy(pcp\\_batch=4,pcp\\_high=8) |'
	has "$d/report.md" '^| [0-9] | slab |'
	;;
replay_geometry)
	# TRACE.slabinfo beside a trace (or --geometry FILE) gives its caches the traced
	# kernel's geometry; a bad one stops the replay with file:line, as a bad trace does
	cp "$SRC/tests/data/eras/linux-6.8.ftrace" "$TMP/t.ftrace"
	cp "$SRC/tests/data/geometry.slabinfo" "$TMP/t.ftrace.slabinfo"
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/t.ftrace" --json
	printf 'dentry 1 1 192 21 3\n' >"$TMP/t.ftrace.slabinfo"
	expect_exit 1 "$KMB" replay --backend slab --trace "$TMP/t.ftrace"
	has "$TMP/err" "t.ftrace.slabinfo:1: dentry: bad <pagesperslab> '3'"
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/t.ftrace" \
		--geometry "$SRC/tests/data/geometry.slabinfo"
	expect_exit 1 "$KMB" replay --backend slab --trace "$TMP/t.ftrace" --geometry "$TMP/none"
	has "$TMP/err" "none: No such file"
	;;
replay_fidelity)
	# the share of allocations whose usable size is the trace's bytes_alloc: slab's kmalloc
	# uses SLUB's size classes, so all 2211 comparable kmallocs of the 3.6 SLUB boot match
	# (INVARIANTS off: its redzones move blocks to larger classes, as in a debug build)
	expect_exit 0 "$KMB" replay --backend slab --json --no-timing --no-invariants
	json_key "$TMP/out" kmalloc_fidelity_pct 100.0
	json_key "$TMP/out" kmalloc_fidelity_events 2211
	json_key "$TMP/out" cache_fidelity_events 6432
	expect_exit 0 "$KMB" replay --backend slab --no-timing --no-invariants
	has "$TMP/out" "fidelity (usable size = traced bytes_alloc): kmalloc 100.00% of 2211; kmem_cache"
	expect_exit 0 "$KMB" replay --backend buddy --json --no-timing --no-invariants
	grep -Eq '"kmalloc_fidelity_pct": [0-9]\.|"kmalloc_fidelity_pct": [1-9][0-9]\.' "$TMP/out" ||
		fail "buddy's kmalloc fidelity is not below 100%: $(grep fidelity "$TMP/out")"
	# the bundled 6.18 trace (and its geometry, beside it): slab's kmalloc is SLUB's
	R6=$SRC/workloads/traces/linux-6.18-x86_64-git/kmem.trace
	expect_exit 0 "$KMB" replay --backend slab --trace "$R6" --json --no-timing --no-invariants
	json_key "$TMP/out" kmalloc_fidelity_pct 100.0
	json_key "$TMP/out" kmalloc_fidelity_events 1195
	json_key "$TMP/out" cache_fidelity_events 10015
	grep -Eq '"cache_fidelity_pct": 82\.4' "$TMP/out" || fail "slab on 6.18: $(grep fidelity "$TMP/out")"
	# the SLUB designs reproduce the traced SLUB kernel: every kmalloc of the 6.18 and the 3.6
	# trace gets its traced slot from SLUB's own size classes (issue 13's target), and every
	# kmem_cache object the traced slot its cache was created with
	if "$KMB" list | grep -q '^  slub '; then
		for b in slub slub-sheaves; do
			for tr in "$R6" "$TRACE"; do
				expect_exit 0 "$KMB" replay --backend $b --trace "$tr" --json --no-timing --no-invariants
				json_key "$TMP/out" kmalloc_fidelity_pct 100.0
				json_key "$TMP/out" cache_fidelity_pct 100.0
			done
		done
	fi
	# a trace with no bytes_alloc has nothing to compare: null, not 0
	printf '%s\n' "a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=8 gfp_flags=GFP_KERNEL" \
		"a-1 [000] .... 1.1: kfree: call_site=c1 ptr=c2" >"$TMP/noalloc.trace"
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/noalloc.trace" --json
	json_key "$TMP/out" kmalloc_fidelity_pct null
	json_key "$TMP/out" kmalloc_fidelity_events 0
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
	json_key "$TMP/r.json" unmatched_frees 11
	# every count scales with the copies and measured passes alike (issue 16)
	expect_exit 0 "$KMB" replay --backend buddy --replicate 2 --repeat 2 --json
	json_key "$TMP/out" allocs 34572
	json_key "$TMP/out" unmatched_frees 44
	expect_exit 0 "$KMB" replay --backend buddy --fault-mtbf 3 --invariants --json
	json_key "$TMP/out" failed_allocs 0
	grep -Eq '"injected_faults": [1-9]' "$TMP/out" || fail "no fault injected"
	# --latency-every 4: about a quarter of the 8643 allocations timed, all replayed
	expect_exit 0 "$KMB" replay --backend buddy --latency-every 4 --json
	json_key "$TMP/out" latency_every 4
	json_key "$TMP/out" allocs 8643
	awk -F': ' '/"count"/ { n = $2 + 0; exit } END { exit !(n > 8643 / 8 && n < 8643 / 2) }' \
		"$TMP/out" || fail "--latency-every 4 timed $(grep -m1 '"count"' "$TMP/out")"
	expect_exit 2 "$KMB" replay --latency-every 0
	has "$TMP/err" "bad --latency-every"
	expect_exit 0 "$KMB" replay --backend buddy --invariants
	has "$TMP/out" "Type"
	has "$TMP/out" "InUse"
	;;
replay_deadlock_is_reported)
	# 1 MiB cannot hold the boot trace's live set: M_WAITOK sleeps with no other thread
	expect_exit 1 "$KMB" replay --backend buddy --mem 1M
	has "$TMP/err" "deadlock"
	has "$TMP/err" "kmem_SLUB.log:"
	# what it did up to the stop, not zeros (issue 16)
	expect_exit 1 "$KMB" replay --backend buddy --mem 1M --json
	json_key "$TMP/out" aborted true
	json_key "$TMP/out" deadlocks 1
	json_key "$TMP/out" sleeps 1
	grep -Eq '"allocs": [1-9][0-9]{3}' "$TMP/out" || fail "no allocations reported: $(cat "$TMP/out")"
	grep -Eq '"peak_footprint_bytes": [1-9]' "$TMP/out" || fail "no footprint reported"
	# two threads, each replaying a copy, on too little memory: reported, not hung
	expect_exit 1 "$KMB" replay --backend buddy --mem 2M --threads 2 --replicate 2
	has "$TMP/err" "deadlock"
	;;
replay_targets_script)
	# bench/replay_targets.sh with a small trace: one row per timing mode, sane figures
	expect_exit 0 bash "$SRC/bench/replay_targets.sh" "$KMB" 1 20000
	for m in "no timing" "1 in 16 timed" "1 in 4 timed" "every op timed"; do has "$TMP/out" "$m"; done
	awk '/timed|no timing/ { if (!($(NF - 2) > 0)) exit 1 }' "$TMP/out" ||
		fail "a mode without events/s: $(cat "$TMP/out")"
	rm -f "$SRC/results/runs/larson-20000.kmt"
	expect_exit 2 bash "$SRC/bench/replay_targets.sh" "$TMP/no-kmbench"
	has "$TMP/err" "no kmbench"
	;;
scaling_check_script)
	# bench/scaling_check.sh on a tiny trace, one run: a row per backend (no ratio asserted)
	export KMB_SCALING_BACKENDS="slab bucket libc"
	expect_exit 0 bash "$SRC/bench/scaling_check.sh" "$KMB" 1 20000
	for b in slab bucket libc; do
		"$KMB" list | grep -q "^  $b " || continue # not built (KMB_BACKENDS)
		awk -v b="$b" '$1 == b && $3 == "M" && $2 > 0 && $5 == "M" && $4 > 0 { ok = 1 }
			END { exit !ok }' "$TMP/out" || fail "no row for $b: $(cat "$TMP/out")"
	done
	expect_exit 2 bash "$SRC/bench/scaling_check.sh" "$TMP/no-kmbench"
	has "$TMP/err" "no kmbench"
	# the mapping is labelled; --map and --warmup are checked
	expect_exit 0 "$KMB" replay --backend slab --trace larson --threads 2 --replicate 2 --warmup 1
	has "$TMP/out" "mapping copies"
	has "$TMP/out" "CPU time"
	expect_exit 0 "$KMB" replay --backend slab --trace larson --threads 2 --map streams
	has "$TMP/out" "mapping streams"
	expect_exit 2 "$KMB" replay --map diagonal
	has "$TMP/err" "bad --map"
	expect_exit 2 "$KMB" run --warmup -1
	has "$TMP/err" "bad --warmup"
	;;
plugin)
	so=$(dirname "$KMB")/kr-plugin.so
	[ -f "$so" ] || { echo "kr-plugin not built (KMB_BACKENDS): skipped"; exit 77; }
	expect_exit 0 "$KMB" replay --backend "plugin:$so" --json
	json_key "$TMP/out" failed_allocs 0
	has "$TMP/out" "\"backend\": \"plugin:$so\""
	# in a run a plugin goes by its own name in tables and file names, its spec in run.json
	expect_exit 0 "$KMB" run --backends "slab,plugin:$so" --workloads linux-3.6-boot \
		--threads 1 --repetitions 1 --ops 1000 --no-frames --out "$TMP/runs"
	has "$TMP/out" "^  kr  *1 "
	d=$(ls -d "$TMP/runs"/*/ | head -1)
	[ -f "$d/replay/kr-linux-3.6-boot-r1.json" ] || fail "no kr replay: $(ls "$d/replay")"
	has "$d/summary.csv" "^kr,"
	has "$d/run.json" "\"plugin:$so\""
	expect_exit 2 "$KMB" run --backends "plugin:$so,plugin:$so" --out "$TMP/runs"
	has "$TMP/err" "--backends lists 'kr' twice"
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
	# strict order over several passes: each pass starts again at the first event
	expect_exit 0 "$KMB" replay --backend slab --order strict --repeat 2 --threads 2 --json
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
	# a timestamp going backwards (was: a wait of 2^64 ns scaled) and an absurd gap (a day)
	# are clamped (to no gap and 10 s, here scaled to 1 ms) and said once
	line() { echo "            init-1     [000] ....  $1: kmalloc: call_site=c1 ptr=$2 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL"; }
	{ line 1000.000000 c2000000; line 999.000000 c2000100; line 999.500000 c2000200
	  line 1000.100000 c2000300; line 87400.000000 c2000400; line 1.000000 c2000500; } >"$TMP/back.trace"
	expect_exit 0 "$KMB" replay --backend buddy --trace "$TMP/back.trace" --pace timestamps=0.0001 --json
	has "$TMP/err" "^kmbench: --pace: trace event 1: the timestamp goes backwards: paced as no gap (said once)$"
	[ "$(grep -c -- --pace "$TMP/err")" = 1 ] || fail "said more than once: $(cat "$TMP/err")"
	json_key "$TMP/out" allocs 6
	# a 4-CPU trace on 4 threads over a described 2-node machine, on every kernel design
	expect_exit 0 "$KMB" trace gen larson --cpus 4 --events 8000 -o "$TMP/l4.trace"
	for b in buddy bucket slab vmem slab@vmem; do
		expect_exit 0 "$KMB" replay --backend $b --trace "$TMP/l4.trace" --threads 4 \
			--topology "node:2 core:2 pu:1" --json -o "$TMP/l4.json"
		json_key "$TMP/l4.json" aborted false
		json_key "$TMP/l4.json" failed_allocs 0
		has "$TMP/l4.json" '"local_allocs"'
		grep -Eq '"cross_node_frees": [1-9]' "$TMP/l4.json" || fail "$b: no cross-node free"
	done
	expect_exit 2 "$KMB" replay --topology "bogus:9"
	# found by the fuzzer: hwloc would build 10^8 objects for minutes
	expect_exit 2 "$KMB" replay --topology "pu:100000000"
	has "$TMP/err" "at most 4096 objects"
	expect_exit 2 "$KMB" replay --topology "pa:4149pu:552"
	has "$TMP/err" "bad --topology"
	# a PU index list up to 2^32 (issue 16) and a count hwloc reads inside an attribute
	expect_exit 2 "$KMB" replay --topology "pu:2(indexes=0,4294967295)"
	has "$TMP/err" "bad --topology"
	expect_exit 2 "$KMB" replay --topology 'no(de:2585 co\2175)8 18'
	has "$TMP/err" "bad --topology"
	expect_exit 0 "$KMB" replay --backend slab --topology "node:2(memory=1GB) pu:2" --threads 2
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
	has "$d/summary.csv" "^backend,workload,repetitions,failed_repetitions,threads,"
	has "$d/summary.csv" "^buddy,linux-3.6-boot,2,"
	head -c 8 "$d/latency.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "latency.png is not a PNG"
	# throughput from the untimed replay, the timed one's kept beside it
	has "$d/replay/buddy-linux-3.6-boot-r1.json" '"timed_ops_per_sec"'
	# the default backends are every registered spec (slub and slub-sheaves when built,
	# nothing that is not), and with two of slub, slub-sheaves, slab the report compares them
	"$KMB" list --json | sed 's/.*"backends": \[\([^]]*\)\].*/\1/; s/, /\n/g' >"$TMP/specs"
	for s in $(cat "$TMP/specs"); do has "$d/run.json" "^    $s,\?\$"; done
	[ "$(grep -c . "$TMP/specs")" -ge 2 ] || fail "kmbench list --json: no backends"
	if [ "$(grep -cx '"slub"\|"slub-sheaves"\|"slab"' "$TMP/specs")" -ge 2 ]; then
		has "$d/report.md" "^## SLUB, SLUB with sheaves and slab"
	fi
	has "$d/report.md" "^## Fidelity to the traced kernel"
	# one colour and dash per backend by its position, baselines dashed (run_plots.c);
	# the picture of a 1 MiB trace in 64 MiB zoomed, and said (run_frames.c)
	has "$d/latency.gp" "dt 2 lc rgb '#f3c300' title 'libc'"
	has "$d/latency.gp" "dt 1 lc rgb '#c2b280' title 'buddy'"
	has "$d/footprint.gp" "dt 1 lc rgb '#c2b280' title 'buddy'"
	has "$d/latency.gp" "set ytics ('1 ns' 1, "
	has "$d/frames-linux-3.6-boot.gp" "zoomed to frames 0-[0-9]* of 16384"
	has "$d/frames-exhaust.gp" "all 8192 frames"
	# vmstat -m: one table, kmem_caches included; slabtop of slab
	has "$d/report.md" "| Type | Kind | Requests (allocations) | libc | mimalloc |"
	has "$d/report.md" "| kmem\\\\_cache |"
	has "$d/report.md" "### slabtop: slab ("
	# a second run never overwrites the first
	expect_exit 0 "$KMB" run --quick --repetitions 1 --backends buddy --out "$TMP/runs" --seed 7
	[ "$(ls -d "$TMP"/runs/*/ | wc -l)" = 2 ] || fail "second run reused a directory"
	;;
run_without_gnuplot)
	KMB_GNUPLOT=/nonexistent/gnuplot expect_exit 1 "$KMB" run --quick --repetitions 1 --out "$TMP/runs"
	has "$TMP/err" "gnuplot not found: apt-get install gnuplot-nox"
	d=$(ls -d "$TMP"/runs/*/ | head -1)
	[ -s "$d/summary.csv" ] && [ -s "$d/latency.gp" ] && [ -s "$d/latency.dat" ] || fail "data not kept"
	;;
trace_convert)
	expect_exit 0 "$KMB" trace convert "$TRACE" -o "$TMP/boot.kmt"
	has "$TMP/err" "(kmt, "
	[ "$(wc -c <"$TMP/boot.kmt")" -lt 200000 ] || fail ".kmt not compact"
	expect_exit 0 "$KMB" trace stat --json "$TRACE" -o "$TMP/text.json"
	expect_exit 0 "$KMB" trace stat --json "$TMP/boot.kmt" -o "$TMP/kmt.json"
	json_key "$TMP/kmt.json" events 11540
	json_key "$TMP/kmt.json" format '"kmt"'
	json_key "$TMP/kmt.json" source_format '"ftrace"'
	# the same facts and statistics: only the name and the format differ
	[ "$(diff "$TMP/text.json" "$TMP/kmt.json" | grep -c '^>')" = 2 ] || fail "kmt stat differs: $(diff "$TMP/text.json" "$TMP/kmt.json" | head)"
	expect_exit 0 "$KMB" trace stat "$TMP/boot.kmt"
	has "$TMP/out" "(kmt, from ftrace"
	expect_exit 0 "$KMB" trace convert "$TMP/boot.kmt" -o "$TMP/back.trace" --to ftrace
	expect_exit 0 "$KMB" trace stat --json "$TMP/back.trace" -o "$TMP/back.json"
	json_key "$TMP/back.json" peak_live_bytes_req 673929
	json_key "$TMP/back.json" matched_frees 2612
	head -c 5000 "$TMP/boot.kmt" >"$TMP/cut.kmt"
	expect_exit 1 "$KMB" trace stat "$TMP/cut.kmt"
	has "$TMP/err" "cut.kmt: corrupt .kmt: the header says"
	expect_exit 2 "$KMB" trace convert "$TRACE" -o "$TMP/x" --to xml
	has "$TMP/err" "bad --to 'xml'"
	expect_exit 2 "$KMB" trace convert "$TRACE"
	has "$TMP/err" "needs one input trace and -o OUT"
	expect_exit 1 "$KMB" trace convert "$TRACE" -o "$TMP/nodir/x.kmt"
	has "$TMP/err" "cannot write"
	for c in convert record; do expect_exit 0 "$KMB" trace $c --help; has "$TMP/out" usage; done
	;;
trace_stat_perf)
	ERAS=$SRC/tests/data/eras
	expect_exit 0 "$KMB" trace stat "$ERAS/linux-6.8.ftrace" --sort pingpong,name --line 2
	has "$TMP/out" "SLAB allocations by call site (sorted by pingpong,name; 2 of 3)"
	has "$TMP/out" "Ping-pong"
	has "$TMP/out" "Cross CPU allocations: 3/5"
	has "$TMP/out" "Page allocations by order"
	has "$TMP/out" "Object lifetimes (4 objects freed, 1 never freed)"
	expect_exit 0 "$KMB" trace stat --json "$ERAS/linux-6.8.ftrace"
	for k in callsites caches summary size_histogram lifetime live_over_time pages by_order \
		cross_cpu_frees pingpong frag_pct; do has "$TMP/out" "\"$k\""; done
	json_key "$TMP/out" cross_cpu_frees 3
	json_key "$TMP/out" peak_live_pages 5
	expect_exit 2 "$KMB" trace stat "$ERAS/linux-6.8.ftrace" --sort speed
	has "$TMP/err" "unknown sort key 'speed'"
	expect_exit 2 "$KMB" trace stat --line many
	has "$TMP/err" "bad --line 'many'"
	;;
trace_formats)
	for f in "$SRC"/tests/data/eras/*.ftrace "$SRC"/tests/data/eras/*.report "$SRC"/tests/data/eras/*.txt; do
		expect_exit 0 "$KMB" trace stat --json "$f"
		json_key "$TMP/out" events 11
		json_key "$TMP/out" implicit_frees 1
		json_key "$TMP/out" peak_live_bytes_req 316
		json_key "$TMP/out" syntax 0
		json_key "$TMP/out" field 0
	done
	expect_exit 0 "$KMB" trace stat --json "$SRC/tests/data/eras/perf-script.txt"
	json_key "$TMP/out" format '"perf"'
	expect_exit 0 "$KMB" trace stat --json "$SRC/tests/data/eras/trace-cmd-latency.report"
	json_key "$TMP/out" format '"trace-cmd"'
	;;
trace_bad_input)
	BAD=$SRC/tests/data/bad.trace
	expect_exit 0 "$KMB" trace stat "$BAD"
	has "$TMP/err" "skipped lines: 3 not an event line; 4 bad or missing field;"
	[ "$(grep -c "bad.trace:[0-9]*: " "$TMP/err")" = 5 ] || fail "expected the first 5 problems: $(cat "$TMP/err")"
	expect_exit 1 "$KMB" trace stat --strict "$BAD"
	has "$TMP/err" "bad.trace:2: kmalloc: bytes_req=18446744073709551616: value overflows uint64"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "strict: one line"
	printf '\x7fELF\x02\x01\x01\x00garbage\n\xff\xfe\n' >"$TMP/junk"
	expect_exit 1 "$KMB" trace stat "$TMP/junk"
	has "$TMP/err" "junk: not a kernel allocation trace"
	: >"$TMP/empty"
	expect_exit 0 "$KMB" trace stat --json "$TMP/empty"
	json_key "$TMP/out" events 0
	expect_exit 1 "$KMB" trace convert "$TMP" -o "$TMP/x.kmt"
	has "$TMP/err" "Is a directory"
	;;
trace_record_fake)
	FS=$TMP/tracefs
	mkdir -p "$FS/per_cpu/cpu0" "$FS/per_cpu/cpu1"
	for e in kmalloc kfree kmem_cache_alloc kmem_cache_free; do
		mkdir -p "$FS/events/kmem/$e"; echo 0 >"$FS/events/kmem/$e/enable"
		echo none >"$FS/events/kmem/$e/filter"
	done
	echo 1 >"$FS/events/kmem/kfree/enable" # already on: must stay on
	echo 'bytes_req > 8' >"$FS/events/kmem/kfree/filter" # the user's: left alone
	echo 0 >"$FS/tracing_on"
	echo '7 (expanded: 1408)' >"$FS/buffer_size_kb" # not allocated yet (kernel 6.x)
	printf 'a-1 [000] .... 1.000001: kmalloc: call_site=c1 ptr=c2 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL\nCPU:0 [LOST 5 EVENTS]\n' \
		>"$FS/per_cpu/cpu0/trace_pipe"
	mkfifo "$FS/per_cpu/cpu1/trace_pipe"
	printf '00000000000000b0 T fake_alloc\n00000000000000d0 T fake_other\n0000000000000100 D fake_data\n' >"$TMP/kallsyms"
	"$KMB" trace record --tracefs "$FS" --duration 3 -o "$TMP/rec.trace" --kallsyms "$TMP/kallsyms" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	# feed cpu1 through the FIFO while the capture runs, then look at tracefs
	sleep 0.5
	printf 'b-2 [001] .... 1.000002: kfree: call_site=c1 ptr=c2\n' >"$FS/per_cpu/cpu1/trace_pipe"
	[ "$(cat "$FS/tracing_on")" = 1 ] || fail "tracing_on not 1 during capture"
	[ "$(cat "$FS/events/kmem/kmalloc/enable")" = 1 ] || fail "kmalloc not enabled during capture"
	# its own threads filtered out, the buffer grown (issue 15)
	grep -q "^common_pid != $pid && common_pid != [0-9]* && common_pid != [0-9]*\$" \
		"$FS/events/kmem/kmalloc/filter" || fail "filter: $(cat "$FS/events/kmem/kmalloc/filter")"
	[ "$(cat "$FS/events/kmem/kfree/filter")" = 'bytes_req > 8' ] || fail "the user's filter changed"
	[ "$(cat "$FS/buffer_size_kb")" -gt 1408 ] || fail "buffer not grown: $(cat "$FS/buffer_size_kb")"
	wait $pid || fail "record failed: $(cat "$TMP/err")"
	[ "$(cat "$FS/events/kmem/kmalloc/filter")" = 0 ] || fail "filter not cleared"
	[ "$(cat "$FS/buffer_size_kb")" = 1408 ] || fail "buffer size not restored"
	has "$TMP/err" "5 events lost: a larger --buffer-kb keeps them"
	has "$TMP/err" "rec.trace.syms: 1 symbols of its call sites from $TMP/kallsyms"
	has "$TMP/rec.trace" "^# kmbench trace record from $FS: 4 events enabled, 2 CPUs, [0-9]* KiB ring buffer per CPU, 3 events filter out its own threads, 5 events lost\$"
	[ "$(cat "$FS/tracing_on")" = 0 ] || fail "tracing_on not restored"
	[ "$(cat "$FS/events/kmem/kmalloc/enable")" = 0 ] || fail "kmalloc enable not restored"
	[ "$(cat "$FS/events/kmem/kfree/enable")" = 1 ] || fail "kfree enable not restored to 1"
	has "$TMP/err" "3 lines from 2 CPUs"
	[ -z "$(ls "$TMP" | grep '\.cpu[0-9]')" ] || fail "spool files left: $(ls "$TMP")"
	expect_exit 0 "$KMB" trace stat --json "$TMP/rec.trace"
	json_key "$TMP/out" events 2
	json_key "$TMP/out" matched_frees 1
	json_key "$TMP/out" cpus 2
	json_key "$TMP/out" lost_events 5
	# the symbols of its call sites (c1) saved beside it, and used from there
	[ "$(cat "$TMP/rec.trace.syms")" = "00000000000000b0 t fake_alloc" ] ||
		fail "rec.trace.syms: $(cat "$TMP/rec.trace.syms")"
	expect_exit 0 "$KMB" trace stat "$TMP/rec.trace"
	has "$TMP/out" "^ fake_alloc+0x11 "
	# -o X.kmt writes .kmt; the lost count goes through trace convert both ways
	printf 'a-1 [000] .... 1.000003: kmalloc: call_site=c1 ptr=c4 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL\nCPU:0 [LOST 5 EVENTS]\n' \
		>"$FS/per_cpu/cpu0/trace_pipe"
	rm -f "$FS/per_cpu/cpu1/trace_pipe"; : >"$FS/per_cpu/cpu1/trace_pipe"
	expect_exit 0 "$KMB" trace record --tracefs "$FS" --duration 0.5 -o "$TMP/rec.kmt" --buffer-kb 2048
	has "$TMP/err" "2048 KiB buffer per CPU"
	[ "$(head -c 4 "$TMP/rec.kmt" | od -An -c | tr -d ' ')" != "#tr" ] || fail "rec.kmt is text"
	[ -z "$(ls "$TMP" | grep 'rec\.kmt\.' | grep -v '\.\(syms\|slabinfo\)$')" ] || fail "spool left: $(ls "$TMP")"
	expect_exit 0 "$KMB" trace stat --json "$TMP/rec.kmt"
	has "$TMP/out" '"format": "kmt"'
	json_key "$TMP/out" lost_events 5
	expect_exit 0 "$KMB" trace convert "$TMP/rec.kmt" --to ftrace -o "$TMP/back.trace"
	has "$TMP/err" "5 lost events carried"
	expect_exit 0 "$KMB" trace stat --json "$TMP/back.trace"
	json_key "$TMP/out" lost_events 5
	# SIGINT stops it and restores the state
	"$KMB" trace record --tracefs "$FS" -o "$TMP/int.trace" --events kmem:kmalloc >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	sleep 0.5
	[ "$(cat "$FS/events/kmem/kmalloc/enable")" = 1 ] || fail "kmalloc not enabled"
	kill -INT $pid
	wait $pid || fail "record after SIGINT failed: $(cat "$TMP/err")"
	[ "$(cat "$FS/events/kmem/kmalloc/enable")" = 0 ] || fail "not restored after SIGINT"
	[ -s "$TMP/int.trace" ] || fail "no output after SIGINT"
	# what is missing is said clearly
	expect_exit 1 "$KMB" trace record --tracefs "$TMP/nope" --duration 1 -o "$TMP/x"
	has "$TMP/err" "nope: not a tracefs directory (no tracing_on)"
	expect_exit 1 "$KMB" trace record --tracefs "$FS" --events kmem:nosuch --duration 1 -o "$TMP/x"
	has "$TMP/err" "no event kmem:nosuch"
	expect_exit 2 "$KMB" trace record --duration soon
	has "$TMP/err" "bad --duration 'soon'"
	;;
gen_*)
	# kmbench trace gen: synthetic workloads, then replayed (workloads/gen_*.c).
	# num FILE KEY: a top-level (2-space indented) number of a JSON file; stat: 4 spaces.
	num() { sed -n "s/^  \"$2\": \([0-9]*\),\{0,1\}\$/\1/p" "$1" | head -1; }
	bstat() { sed -n "s/^    \"$2\": \([0-9]*\),\{0,1\}\$/\1/p" "$1" | head -1; }
	positive() { [ "${3:-0}" -gt 0 ] 2>/dev/null || fail "$1: $2 = '${3:-}', expected > 0"; }
	gen_events() { sed -n 's/.*: \([0-9]*\) events of .*/\1/p' "$TMP/out"; }
	backends=buddy
	"$KMB" list | grep -q '^  bucket ' && backends="buddy bucket"
	case $CASE in
	gen_usage)
		expect_exit 0 "$KMB" trace gen --help
		for w in fdtable netrx vfs-cache larson xmalloc exhaust; do has "$TMP/out" "^  $w "; done
		expect_exit 2 "$KMB" trace gen
		has "$TMP/err" "which workload"
		expect_exit 2 "$KMB" trace gen nope -o "$TMP/x"
		has "$TMP/err" "unknown workload 'nope'"
		expect_exit 2 "$KMB" trace gen netrx
		has "$TMP/err" "-o FILE is required"
		expect_exit 2 "$KMB" trace gen netrx --cpus 0 -o "$TMP/x"
		has "$TMP/err" "bad --cpus '0' (1..64)"
		expect_exit 2 "$KMB" trace gen netrx --cpus 65 -o "$TMP/x"
		expect_exit 2 "$KMB" trace gen netrx --events lots -o "$TMP/x"
		has "$TMP/err" "bad --events 'lots'"
		expect_exit 2 "$KMB" trace gen netrx --events 10 -o "$TMP/x"
		has "$TMP/err" "--events must be 100..20000000"
		expect_exit 2 "$KMB" trace gen netrx --seed -1 -o "$TMP/x"
		has "$TMP/err" "bad --seed '-1'"
		expect_exit 2 "$KMB" trace gen netrx --variant waitok -o "$TMP/x"
		has "$TMP/err" "netrx has no variants"
		expect_exit 2 "$KMB" trace gen fdtable --variant sometimes -o "$TMP/x"
		has "$TMP/err" "unknown variant 'sometimes' of fdtable (failok, waitok, mixed)"
		expect_exit 2 "$KMB" trace gen larson --mem 32M -o "$TMP/x"
		has "$TMP/err" "--mem does not apply to larson"
		expect_exit 2 "$KMB" trace gen exhaust --mem lots -o "$TMP/x"
		has "$TMP/err" "bad --mem 'lots'"
		expect_exit 2 "$KMB" trace gen netrx --bogus -o "$TMP/x"
		has "$TMP/err" "unknown option '--bogus'"
		has "$TMP/err" "kmbench trace gen --help"
		[ "$(wc -l <"$TMP/err")" = 1 ] || fail "usage errors must be one line"
		[ ! -e "$TMP/x" ] || fail "a usage error wrote the output file"
		expect_exit 1 "$KMB" trace gen netrx -o "$TMP/nodir/x.trace"
		has "$TMP/err" "cannot write $TMP/nodir/x.trace"
		;;
	gen_deterministic)
		expect_exit 0 "$KMB" trace gen larson --events 20000 --cpus 3 --seed 9 -o "$TMP/a.trace"
		has "$TMP/out" "events of larson (3 CPUs, seed 9)"
		n=$(gen_events)
		expect_exit 0 "$KMB" trace gen larson --events 20000 --cpus 3 --seed 9 -o "$TMP/b.trace"
		cmp -s "$TMP/a.trace" "$TMP/b.trace" || fail "same seed, different traces"
		expect_exit 0 "$KMB" trace gen larson --events 20000 --cpus 3 --seed 10 -o "$TMP/c.trace"
		cmp -s "$TMP/a.trace" "$TMP/c.trace" && fail "another seed, the same trace"
		[ "$(head -1 "$TMP/a.trace")" = "# tracer: nop" ] || fail "no ftrace header"
		expect_exit 0 "$KMB" trace stat --strict --json "$TMP/a.trace"
		json_key "$TMP/out" events "$n"
		json_key "$TMP/out" cpus 3
		json_key "$TMP/out" failed_allocs 0
		json_key "$TMP/out" implicit_frees 0
		json_key "$TMP/out" final_live_objects 0
		cp "$TMP/out" "$TMP/text.json"
		expect_exit 0 "$KMB" trace gen larson --events 20000 --cpus 3 --seed 9 -o "$TMP/a.kmt"
		expect_exit 0 "$KMB" trace stat --json "$TMP/a.kmt"
		for k in events allocs frees cpus total_bytes_alloc peak_live_bytes_req peak_live_objects; do
			json_key "$TMP/out" $k "$(num "$TMP/text.json" $k)"
		done
		;;
	gen_replay)
		for w in netrx vfs-cache larson xmalloc; do
			expect_exit 0 "$KMB" trace gen $w --events 20000 -o "$TMP/w.trace"
			n=$(gen_events)
			for b in $backends; do
				expect_exit 0 "$KMB" replay --backend $b --trace "$TMP/w.trace" --json -o "$TMP/r.json"
				json_key "$TMP/r.json" aborted false
				json_key "$TMP/r.json" events "$n"
				json_key "$TMP/r.json" failed_allocs 0
				json_key "$TMP/r.json" frees_of_failed_allocs 0
			done
		done
		;;
	gen_fdtable)
		# M_FAILOK (the default): the tables beyond the largest block fail, the replay goes on
		expect_exit 0 "$KMB" trace gen fdtable --events 20000 -o "$TMP/f.trace"
		for b in $backends; do
			expect_exit 0 "$KMB" replay --backend $b --trace "$TMP/f.trace" --json -o "$TMP/r.json"
			json_key "$TMP/r.json" aborted false
			failed=$(num "$TMP/r.json" failed_allocs)
			positive "$b fdtable" failed_allocs "$failed"
			json_key "$TMP/r.json" frees_of_failed_allocs "$failed"
		done
		# M_WAITOK: the first impossible request panics and the replay stops, reported
		expect_exit 0 "$KMB" trace gen fdtable --variant waitok --events 2000 -o "$TMP/w.trace"
		expect_exit 1 "$KMB" replay --backend buddy --trace "$TMP/w.trace" --json -o "$TMP/r.json"
		# (8 MiB, or 4 MiB with INVARIANTS' redzone: the buddy's largest block is 4 MiB)
		grep -Eq "impossible panic: kmalloc\((8388608|4194304), alloc_fdtable" "$TMP/err" ||
			fail "no impossible-request panic: $(head -c 400 "$TMP/err")"
		has "$TMP/err" "can never be satisfied"
		has "$TMP/err" "w.trace:"
		json_key "$TMP/r.json" aborted true
		;;
	gen_exhaust)
		expect_exit 0 "$KMB" trace gen exhaust --events 20000 -o "$TMP/e.trace"
		has "$TMP/out" "replay: kmbench replay --trace $TMP/e.trace --mem 32M"
		for b in $backends; do
			expect_exit 0 "$KMB" replay --backend $b --mem 32M --trace "$TMP/e.trace" --json -o "$TMP/r.json"
			json_key "$TMP/r.json" aborted false
			json_key "$TMP/r.json" deadlocks 0
			json_key "$TMP/r.json" sleeps 0 # one thread: nobody else could free
			positive "$b" failed_allocs "$(num "$TMP/r.json" failed_allocs)"
			positive "$b" nofail_retries "$(num "$TMP/r.json" nofail_retries)"
			positive "$b" reserve_alloc "$(bstat "$TMP/r.json" reserve_alloc)"
			# the default 256M never runs short
			expect_exit 0 "$KMB" replay --backend $b --trace "$TMP/e.trace" --json -o "$TMP/r.json"
			json_key "$TMP/r.json" failed_allocs 0
			json_key "$TMP/r.json" nofail_retries 0
		done
		;;
	gen_replay_threads)
		expect_exit 0 "$KMB" trace gen netrx --events 20000 --cpus 2 -o "$TMP/n.trace"
		expect_exit 0 "$KMB" replay --backend buddy --trace "$TMP/n.trace" --threads 2 --json -o "$TMP/r.json"
		frees=$(num "$TMP/r.json" frees)
		cross=$(num "$TMP/r.json" cross_cpu_frees)
		[ "$((cross * 10))" -gt "$((frees * 9))" ] || fail "netrx: $cross of $frees frees cross-CPU"
		# The filler sleeps at the watermark until kswapd0 on the other thread frees, if
		# it gets there first: schedule-dependent (a loaded machine may run CPU 0's
		# thread first), so any of 5 replays will do; none may abort or deadlock.
		expect_exit 0 "$KMB" trace gen exhaust --cpus 2 -o "$TMP/e.trace"
		for b in $backends; do
			# whether a filler sleeps depends on how the two threads are scheduled, so the
			# sleeps are reported, not required (no timing-dependent assertion)
			expect_exit 0 "$KMB" replay --backend $b --mem 32M --trace "$TMP/e.trace" --threads 2 --json -o "$TMP/r.json"
			json_key "$TMP/r.json" aborted false
			json_key "$TMP/r.json" deadlocks 0
			positive "$b" failed_allocs "$(num "$TMP/r.json" failed_allocs)"
			echo "$b: $(num "$TMP/r.json" sleeps) M_WAITOK sleeps with 2 threads"
		done
		;;
	*)
		fail "no such case"
		;;
	esac
	;;
run_interrupted | run_usage | run_records | run_full_disk | plot_rerender | plot_without_gnuplot | plot_refuses_scripts | \
	compare_runs | compare_gbench | compare_holm | compare_regression)
	# kmbench run's results directory, kmbench plot and kmbench compare (bench/run*.c,
	# bench/plot_cmd.c, bench/compare_cmd.c; results/report*.c, results/stats.c)
	small_run() { # small_run ROOT [OPTION...]: two backends on the boot trace; $d = its dir
		local root=$1
		shift
		expect_exit 0 "$KMB" run --backends buddy,slab --workloads linux-3.6-boot --threads 1 \
			--ops 20000 --out "$root" "$@"
		d=$(ls -d "$root"/*/ | head -1)
	}
	case $CASE in
	run_interrupted)
		# a signal after a few jobs: what finished is written, run.json says why it is not
		# complete, nothing half-written is left, the exit status is 128 + the signal
		for sig in INT TERM; do
			root="$TMP/$sig"
			: >"$TMP/err"
			"$KMB" run --backends buddy,slab --workloads linux-3.6-boot --threads 1 \
				--repetitions 200 --ops 20000 --no-frames --out "$root" >"$TMP/out" 2>"$TMP/err" &
			pid=$!
			# (err was emptied before the start: not the last run's progress)
			for _ in $(seq 1200); do grep -q "^kmbench run: 3/" "$TMP/err" && break; sleep 0.1; done
			kill -"$sig" $pid
			wait $pid
			got=$?
			[ "$got" = "$((128 + $(kill -l $sig)))" ] || fail "SIG$sig: exit $got"
			d=$(ls -d "$root"/*/ | head -1)
			json_key "$d/run.json" complete false
			has "$d/run.json" "\"incomplete_reason\": \"interrupted by SIG$sig after [0-9]* of 400 jobs\""
			has "$d/summary.csv" "^backend,workload,repetitions"
			grep -q "^buddy,linux-3.6-boot,\|^slab,linux-3.6-boot," "$d/summary.csv" || fail "no rows"
			has "$d/report.md" "INCOMPLETE: interrupted by SIG$sig"
			has "$d/report.html" "INCOMPLETE"
			has "$TMP/err" "results so far in"
			[ -s "$d/latency.gp" ] && [ -s "$d/repetitions.csv" ] || fail "results not written"
			[ -z "$(find "$d" -name '*.tmp.*')" ] || fail "temporary files left: $(find "$d" -name '*.tmp.*')"
		done
		# the same request twice (as GNU timeout: the process, then its group) does not kill
		# the run before its records; a third signal does (here while a slow gnuplot keeps
		# it writing), and SIGKILL cannot be caught: run.json, rewritten after every job,
		# still says how many were done
		printf '#!/bin/sh\nsleep 5\n' >"$TMP/slowplot"
		chmod +x "$TMP/slowplot"
		for n in 2 3 KILL; do
			root="$TMP/x$n"
			: >"$TMP/err"
			slow=()
			[ $n = 3 ] && slow=(env "KMB_GNUPLOT=$TMP/slowplot")
			"${slow[@]}" "$KMB" run --backends buddy,slab --workloads linux-3.6-boot \
				--threads 1 --repetitions 200 --ops 20000 --no-frames --out "$root" >"$TMP/out" 2>"$TMP/err" &
			pid=$!
			# (err was emptied before the start: not the last run's progress)
			for _ in $(seq 1200); do grep -q "^kmbench run: 3/" "$TMP/err" && break; sleep 0.1; done
			case $n in
			2) kill -TERM $pid; sleep 0.3; kill -TERM $pid ;;
			3) kill -TERM $pid; sleep 0.3; kill -TERM $pid; sleep 0.3; kill -INT $pid ;;
			KILL) kill -KILL $pid ;;
			esac
			wait $pid
			got=$?
			d=$(ls -d "$root"/*/ | head -1)
			json_key "$d/run.json" complete false
			if [ $n = 2 ]; then
				[ "$got" = 143 ] || fail "two SIGTERMs: exit $got"
				has "$d/run.json" '"incomplete_reason": "interrupted by SIGTERM after'
				has "$d/report.md" "INCOMPLETE: interrupted by SIGTERM"
				continue
			fi
			[ "$got" = "$([ $n = 3 ] && echo 130 || echo 137)" ] || fail "signal $n: exit $got"
			has "$d/run.json" '"incomplete_reason": "running"'
			done_jobs=$(grep -E '^    "done": [0-9]+,$' "$d/run.json" | tr -dc 0-9)
			[ "$done_jobs" -ge 3 ] || fail "run.json says $done_jobs jobs done, 3 at least were"
			[ "$(ls "$d"/replay/*.json | wc -l)" -ge "$done_jobs" ] || fail "fewer replay JSON than done"
			# kmbench plot completes the directory: summary, figures, report, the true count
			# (killed while rendering, the run left scripts it had not tagged yet: refused)
			if ls "$d"/*.gp >/dev/null 2>&1; then
				expect_exit 2 "$KMB" plot "$d"
				has "$TMP/err" "refused: not a script kmbench run wrote for this user (no tag"
				rm "$d"/*.gp
			fi
			expect_exit 0 "$KMB" plot "$d"
			n_json=$(ls "$d"/replay/*.json | wc -l)
			has "$TMP/out" "rebuilt .*: killed after $n_json of 400 jobs"
			has "$d/run.json" "\"incomplete_reason\": \"killed after $n_json of 400 jobs"
			json_key "$d/run.json" done "$n_json"
			json_key "$d/run.json" complete false
			has "$d/report.md" "INCOMPLETE: killed after $n_json of 400 jobs"
			grep -q "^buddy,linux-3.6-boot,\|^slab,linux-3.6-boot," "$d/summary.csv" || fail "no rows"
			[ -s "$d/scaling.png" ] && [ -s "$d/repetitions.csv" ] || fail "not rebuilt"
			has "$d/run.json" '"scaling.gp": "[0-9a-f]\{16\}"'
			expect_exit 0 "$KMB" plot "$d" # once rebuilt, re-rendered as any other run
			grep -q rebuilt "$TMP/out" && fail "rebuilt twice"
		done
		# the done-when of issue 16: GNU timeout signals the run, then its process group
		if command -v timeout >/dev/null; then
			root="$TMP/timeout"
			timeout -s TERM 8 "$KMB" run --backends buddy,slab --workloads linux-3.6-boot --threads 1 \
				--repetitions 500 --ops 20000 --no-frames --out "$root" >"$TMP/out" 2>"$TMP/err"
			[ $? = 124 ] || fail "timeout: exit $?"
			d=$(ls -d "$root"/*/ | head -1)
			has "$d/run.json" '"incomplete_reason": "interrupted by SIGTERM after [0-9]* of 1000 jobs"'
			expect_exit 0 "$KMB" plot "$d"
			has "$d/report.md" "INCOMPLETE: interrupted by SIGTERM after [0-9]* of 1000 jobs"
		fi
		;;
	run_usage)
		expect_exit 0 "$KMB" run --help
		for o in --quick --workloads --threads --topology --repetitions --ops --seed; do
			has "$TMP/out" -- "$o"
		done
		expect_exit 2 "$KMB" run --threads 0
		has "$TMP/err" "bad --threads value '0'"
		expect_exit 2 "$KMB" run --threads 1,1
		has "$TMP/err" "lists 1 twice"
		expect_exit 2 "$KMB" run --workloads nosuch
		has "$TMP/err" "unknown workload 'nosuch' (kmbench list)"
		expect_exit 2 "$KMB" run --ops 5
		has "$TMP/err" "bad --ops '5'"
		expect_exit 2 "$KMB" run --topology "bogus:9"
		expect_exit 2 "$KMB" run --backends slab,buddy,slab # the cells would share files
		has "$TMP/err" "--backends lists 'slab' twice"
		expect_exit 2 "$KMB" run stray
		has "$TMP/err" "unexpected argument 'stray'"
		[ "$(wc -l <"$TMP/err")" = 1 ] || fail "usage errors must be one line"
		expect_exit 1 "$KMB" run --backends buddy --workloads linux-3.6-boot --out /proc/kmb-no
		has "$TMP/err" "cannot create a results directory under /proc/kmb-no"
		expect_exit 0 "$KMB" list --json
		for w in linux-3.6-boot larson exhaust; do has "$TMP/out" "\"$w\""; done
		;;
	run_full_disk)
		# a 2 MB tmpfs nearly full: every failed write names its file and ENOSPC, replay -o
		# leaves no temporary file, the last line lists only files that exist
		mkdir "$TMP/small"
		mount -t tmpfs -o size=2m tmpfs "$TMP/small" 2>/dev/null || { echo "cannot mount a tmpfs: skipped"; exit 77; }
		trap 'umount "$TMP/small"; rm -rf "$TMP"' EXIT
		head -c 1900000 /dev/zero >"$TMP/small/fill"
		expect_exit 1 "$KMB" run --backends buddy,slab --workloads linux-3.6-boot --threads 1 \
			--repetitions 3 --ops 20000 --out "$TMP/small/r"
		has "$TMP/err" "cannot write $TMP/small/r/[0-9-]*/[a-z.-]*: No space left on device"
		grep -q "Input/output error\|write error" "$TMP/err" && fail "an errno lost: $(cat "$TMP/err")"
		d=$(ls -d "$TMP"/small/r/*/ | head -1)
		last=$(tail -1 "$TMP/out")
		case $last in "results: ${d%/} ("*) ;; *) fail "last line: $last" ;; esac
		for f in $(echo "$last" | sed 's/.*(//; s/)$//; s/,//g'); do
			[ "$f" = plots ] && f=scaling.png
			[ "$f" = nothing ] || [ "$f" = written ] || [ -e "$d/$f" ] || fail "lists $f, which does not exist"
		done
		if grep -q "cannot write $d/*run.json" "$TMP/err"; then
			echo "$last" | grep -q run.json && fail "lists the run.json it could not write"
		fi
		[ -z "$(find "$TMP/small" -name '*.tmp.*')" ] || fail "temporary files left: $(find "$TMP/small" -name '*.tmp.*')"
		rm -rf "$TMP/small/r"
		head -c 1000000 /dev/zero >"$TMP/small/fill2" 2>/dev/null # to the last byte
		expect_exit 1 "$KMB" replay --backend buddy --json -o "$TMP/small/x.json"
		has "$TMP/err" "cannot write $TMP/small/x.json: No space left on device"
		[ -z "$(ls "$TMP/small" | grep -v '^fill')" ] || fail "left behind: $(ls "$TMP/small")"
		;;
	run_records)
		# the command line as given (lists whole, quoted for a shell); "complete" only when
		# every job succeeded, "failed" beside it (buddy deadlocks on the boot trace in 1M)
		root="$TMP/it's here"
		expect_exit 1 "$KMB" run --backends buddy,slab --workloads linux-3.6-boot --threads 1,2 \
			--repetitions 1 --ops 1000 --no-frames --mem 1M --out "$root"
		d=$(ls -d "$root"/*/ | head -1)
		has "$d/run.json" '^    "buddy,slab",$'
		has "$d/run.json" '^    "1,2",$'
		grep -qF -- "--threads 1,2 --repetitions 1 --ops 1000 --no-frames --mem 1M --out '$TMP/it'\\\\''s here'\"," \
			"$d/run.json" || fail "command_line: $(grep command_line "$d/run.json")"
		has "$d/report.md" "kmbench run --backends buddy,slab --workloads linux-3.6-boot --threads 1,2 "
		json_key "$d/run.json" complete false
		n=$(grep -E '^  "failed": [0-9]+,$' "$d/run.json" | tr -dc 0-9)
		[ -n "$n" ] && [ "$n" -ge 2 ] || fail "failed: '$n', expected buddy's 2 at least"
		has "$d/run.json" "\"incomplete_reason\": \"$n of 4 jobs failed\""
		has "$d/report.md" "INCOMPLETE: $n of 4 jobs failed"
		expect_exit 0 "$KMB" run --backends slab --workloads linux-3.6-boot --threads 1 \
			--repetitions 1 --ops 1000 --no-frames --out "$TMP/ok"
		d=$(ls -d "$TMP"/ok/*/ | head -1)
		json_key "$d/run.json" complete true
		json_key "$d/run.json" failed 0
		grep -q incomplete_reason "$d/run.json" && fail "a complete run with a reason"
		;;
	plot_rerender)
		small_run "$TMP/runs" --repetitions 1
		for f in latency sizeclass footprint frag scaling frames-linux-3.6-boot; do
			[ -s "$d/$f.png" ] && [ -s "$d/$f.gp" ] || fail "$f.png or $f.gp missing"
		done
		rm -f "$d"/*.png "$d"/*.svg "$d/report.html" "$d/report.md"
		expect_exit 0 "$KMB" plot "$d"
		for f in latency sizeclass footprint frag scaling frames-linux-3.6-boot; do
			[ -s "$d/$f.png" ] && [ -s "$d/$f.svg" ] || fail "$f not re-rendered"
			head -c 8 "$d/$f.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "$f.png is not a PNG"
		done
		has "$d/report.html" "data:image/png;base64,"
		has "$d/report.md" "(latency.png)"
		expect_exit 2 "$KMB" plot
		expect_exit 1 "$KMB" plot "$TMP/nope"
		has "$TMP/err" "nope"
		;;
	plot_without_gnuplot)
		# the run keeps its data and scripts and says what to install; so does kmbench plot
		KMB_GNUPLOT=/nonexistent/gnuplot expect_exit 1 "$KMB" run --backends buddy \
			--workloads linux-3.6-boot --threads 1,2 --repetitions 1 --ops 20000 --out "$TMP/runs"
		has "$TMP/err" "gnuplot not found: apt-get install gnuplot-nox"
		d=$(ls -d "$TMP"/runs/*/ | head -1)
		for f in summary.csv sizeclass.csv frames.csv latency.dat latency.gp frag.gp scaling.dat \
			frames-linux-3.6-boot.gp frames/buddy-linux-3.6-boot.bin report.md report.html; do
			[ -s "$d/$f" ] || fail "$f not written"
		done
		[ -z "$(ls "$d"/*.png 2>/dev/null)" ] || fail "a PNG without gnuplot?"
		has "$d/report.html" "was not rendered"
		KMB_GNUPLOT=/nonexistent/gnuplot expect_exit 1 "$KMB" plot "$d"
		has "$TMP/err" "gnuplot not found: apt-get install gnuplot-nox"
		[ -s "$d/latency.dat" ] && [ -s "$d/latency.gp" ] || fail "data lost"
		expect_exit 0 "$KMB" plot "$d" # with gnuplot: rendered after all
		[ -s "$d/latency.png" ] || fail "latency.png not rendered"
		;;
	plot_refuses_scripts)
		# gnuplot scripts run commands: plot renders only those run.json tags under this
		# user's key, names the others and renders nothing (exit 2) without --trust-scripts
		small_run "$TMP/runs" --repetitions 1 --no-frames
		has "$d/run.json" '"latency.gp": "[0-9a-f]\{16\}"'
		expect_exit 0 "$KMB" plot "$d"
		printf 'system("touch %s/pwned")\n' "$TMP" >"$d/evil.gp"
		rm -f "$d/latency.png"
		expect_exit 2 "$KMB" plot "$d"
		has "$TMP/err" "$d/*evil.gp: refused: .*(no tag in run.json)"
		has "$TMP/err" "nothing rendered: read the 1 script named above, then use --trust-scripts"
		[ ! -e "$TMP/pwned" ] || fail "a script kmbench did not write was run"
		[ ! -e "$d/latency.png" ] || fail "rendered despite a refused script"
		rm "$d/evil.gp"
		echo "# edited" >>"$d/latency.gp"
		expect_exit 2 "$KMB" plot "$d"
		has "$TMP/err" "latency.gp: refused: .*(its tag does not match)"
		XDG_CONFIG_HOME=$TMP/someone-else expect_exit 2 "$KMB" plot "$d" # another user's key
		has "$TMP/err" "no script key"
		printf 'system("touch %s/pwned")\n' "$TMP" >"$d/evil.gp"
		expect_exit 0 "$KMB" plot --trust-scripts "$d"
		[ -e "$TMP/pwned" ] && [ -s "$d/latency.png" ] || fail "--trust-scripts did not render"
		expect_exit 2 "$KMB" plot --trust "$d"
		has "$TMP/err" "unknown option '--trust'"
		;;
	compare_runs)
		small_run "$TMP/a" --repetitions 3 --no-frames
		a=$d
		expect_exit 0 "$KMB" compare "$a" "$a"
		has "$TMP/out" "Mann-Whitney U"
		has "$TMP/out" "^no significant change in 6 comparisons"
		expect_exit 0 "$KMB" compare "$a" "$a" --json
		json_key "$TMP/out" significant 0
		has "$TMP/out" '"verdict": "too few repetitions"' # 3 against 3: p >= 0.1
		small_run "$TMP/b" --repetitions 3 --no-frames
		expect_exit 0 "$KMB" compare "$a" "$d" --metrics ops_per_sec,peak_footprint_bytes
		has "$TMP/out" "slab linux-3.6-boot t1 *peak_footprint_bytes"
		expect_exit 0 "$KMB" compare "$a" "$d" --metrics jw_footprint_at_peak_ratio --filter '^slab '
		has "$TMP/out" "^slab linux-3.6-boot t1 *jw_footprint_at_peak_live_ratio" # the old name
		grep -q "^buddy" "$TMP/out" && fail "--filter kept buddy"
		expect_exit 2 "$KMB" compare "$a" "$TMP/none"
		expect_exit 2 "$KMB" compare "$a" "$d" --metrics nosuch
		has "$TMP/err" "no column 'nosuch' (not a metric of the schema)"
		expect_exit 2 "$KMB" compare "$a"
		expect_exit 2 "$KMB" compare "$a" "$a" --alpha 2
		expect_exit 2 "$KMB" compare "$a" "$a" --sort size
		expect_exit 0 "$KMB" compare --list-metrics # the schema's table
		has "$TMP/out" "^ops_per_cpu_sec  *ops/s  *higher  *throughput, CPU time"
		has "$TMP/out" "^alloc_p99_ns  *ns  *lower "
		has "$TMP/out" "formerly jw_footprint_at_peak_ratio"
		expect_exit 2 "$KMB" compare "$a" "$a" --filter '('
		;;
	compare_holm | compare_regression)
		# hand-made results directories: three backends, five repetitions each, exact
		# Mann-Whitney p-values known: a 2/252 (separated), b 4/252 (one swap), c 0.6905
		reps() { # reps DIR MEM (SERIES VALUES...)...: repetitions.csv and run.json
			local dir=$1 mem=$2 b k
			shift 2
			mkdir -p "$dir"
			echo "{\"host\": \"h\", \"mem_bytes\": $mem, \"git_commit\": \"abc\"}" >"$dir/run.json"
			echo "backend,workload,threads,repetition,ok,ops_per_sec,alloc_p99_ns,free_p99_ns" >"$dir/repetitions.csv"
			while [ $# -gt 0 ]; do
				b=$1
				shift
				for k in 1 2 3 4 5; do
					echo "$b,w,1,$k,1,$1,100,100" >>"$dir/repetitions.csv"
					shift
				done
			done
		}
		case $CASE in
		compare_holm)
			reps "$TMP/old" 1024 a 1 2 3 4 5 b 1 2 3 4 6 c 1 3 5 7 9
			reps "$TMP/new" 2048 a 11 12 13 14 15 b 5 7 8 9 10 c 2 4 6 8 10
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec
			has "$TMP/out" "Holm-Bonferroni over the 3 comparisons"
			has "$TMP/out" "^a w t1  *ops_per_sec  *3.00  *13.00  *+333.33%  *0.0079  *0.0238  *exact  *5/5  better"
			has "$TMP/out" "^b w t1  *ops_per_sec  *3.00  *8.00  *+166.67%  *0.0159  *0.0317  *exact  *5/5  better"
			has "$TMP/out" "^c w t1  *ops_per_sec  *5.00  *6.00  *+20.00%  *0.6905  *0.6905  *exact  *5/5  no significant change"
			has "$TMP/out" "^  mem_bytes  *1024 -> 2048"
			has "$TMP/out" "^geometric mean of new/old medians: ops_per_sec 2.4025x (+140.25%, 3)"
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --json
			has "$TMP/out" '"p": 0.0079365079365079'
			has "$TMP/out" '"p_holm": 0.023809523809523'
			has "$TMP/out" '"p_holm": 0.031746031746031'
			has "$TMP/out" '"setting": "mem_bytes"'
			# sorted by the size of the change; one comparison alone is not corrected
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --sort change
			[ "$(grep -o '^[abc] w t1' "$TMP/out" | tr -d '\n')" = "a w t1b w t1c w t1" ] || fail "order"
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --filter '^b '
			has "$TMP/out" "^b w t1 .* 0.0159  *0.0159 "
			;;
		compare_regression)
			# a got 50 % slower, significantly; b and c did not change significantly
			reps "$TMP/old" 1 a 100 101 102 103 104 b 1 2 3 4 5 c 1 2 3 4 5
			reps "$TMP/new" 1 a 50 51 52 53 54 b 1 2 3 4 5 c 1 2 3 4 5
			expect_exit 1 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --fail-on-regression
			has "$TMP/out" "^a w t1  *ops_per_sec .* worse"
			has "$TMP/out" "^regression: a metric got significantly worse by more than 0%"
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --fail-on-regression --threshold 60
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec # no flag: 0
			expect_exit 0 "$KMB" compare "$TMP/new" "$TMP/old" --metrics ops_per_sec --fail-on-regression # faster
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --metrics ops_per_sec --fail-on-regression --filter '^[bc] '
			expect_exit 2 "$KMB" compare "$TMP/old" "$TMP/new" --threshold -1
			# nine tests (three metrics): 9 x 2/252 > 0.05, the correction leaves none
			expect_exit 0 "$KMB" compare "$TMP/old" "$TMP/new" --fail-on-regression
			has "$TMP/out" "^a w t1  *ops_per_sec .* 0.0079  *0.0714 "
			;;
		esac
		;;
	compare_gbench)
		# google-benchmark JSON: 5 repetitions of BM_a at 100..104 us, then at 200..204 us
		# (exact p = 2/252 = 0.0079: worse); BM_b the same values twice (ties: p = 1)
		gb() {
			echo '{"context": {"library_build_type": "release"}, "benchmarks": ['
			for i in 0 1 2 3 4; do
				echo "{\"name\": \"BM_a\", \"run_name\": \"BM_a\", \"run_type\": \"iteration\",
				 \"repetitions\": 5, \"repetition_index\": $i, \"iterations\": 10,
				 \"real_time\": $(($1 + i)), \"cpu_time\": $(($1 + i)), \"time_unit\": \"us\"},"
				echo "{\"name\": \"BM_b\", \"run_type\": \"iteration\", \"iterations\": 10,
				 \"real_time\": $((50 + i)).5, \"cpu_time\": 7, \"time_unit\": \"ns\"},"
			done
			echo '{"name": "BM_a_mean", "run_name": "BM_a", "run_type": "aggregate",
			 "aggregate_name": "mean", "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}'
		}
		gb 100 >"$TMP/old.json"
		gb 200 >"$TMP/new.json"
		expect_exit 0 "$KMB" compare "$TMP/old.json" "$TMP/new.json"
		has "$TMP/out" "^BM_a  *real_time  *102000  *202000  *+98.04%  *0.0079  *0.0317  *exact  *5/5  worse"
		has "$TMP/out" "^BM_b  *real_time  *52.50  *52.50  *+0.00%  *1.0000  *1.0000  *normal  *5/5  no significant change"
		has "$TMP/out" "^2 of 4 comparisons changed significantly at family-wise alpha 0.05 (Holm): 0 better, 2 worse"
		expect_exit 0 "$KMB" compare "$TMP/new.json" "$TMP/old.json" --json
		has "$TMP/out" '"verdict": "better"'
		has "$TMP/out" '"p": 0.0079365079365079'
		echo '{"benchmarks": 3}' >"$TMP/bad.json"
		expect_exit 2 "$KMB" compare "$TMP/old.json" "$TMP/bad.json"
		has "$TMP/err" "not google-benchmark JSON"
		# --benchmark_report_aggregates_only=true: nothing to test, refused
		sed 's/"iteration"/"aggregate", "aggregate_name": "mean"/; s/release/debug/' \
			"$TMP/new.json" >"$TMP/agg.json"
		expect_exit 2 "$KMB" compare "$TMP/old.json" "$TMP/agg.json"
		has "$TMP/err" "holds only aggregates"
		# a different build type is said
		sed 's/release/debug/' "$TMP/new.json" >"$TMP/debug.json"
		expect_exit 1 "$KMB" compare "$TMP/old.json" "$TMP/debug.json" --fail-on-regression
		has "$TMP/out" "^  library_build_type  *release -> debug"
		;;
	esac
	;;
shard_merge)
	# kmbench run --shard K/N under GNU parallel, kmbench merge: every deterministic figure
	# (one-thread replays: failures, footprints, fragmentation, the picture's counts, the
	# trace facts) equals a single run's with the same seed (bench/merge_cmd.c)
	command -v parallel >/dev/null || { echo "SKIP: GNU parallel not installed (apt-get install parallel)"; exit 77; }
	set -- --backends buddy,slab,bucket,vmem@vmem --workloads linux-3.6-boot,exhaust \
		--threads 1 --repetitions 2 --ops 5000 --mem 16M --seed 11
	expect_exit 0 parallel --halt now,fail=1 "$KMB" run "$@" --shard {}/3 --out "$TMP/s{}" ::: 1 2 3
	expect_exit 0 "$KMB" run "$@" --out "$TMP/one"
	one=$(ls -d "$TMP"/one/*/)
	expect_exit 0 "$KMB" merge "$TMP"/s1/*/ "$TMP"/s2/*/ "$TMP"/s3/*/ -o "$TMP/merged"
	has "$TMP/out" "merged 3 shards"
	# 8 cells of 2 repetitions: cells 0,3,6 / 1,4,7 / 2,5
	for s in 1:6 2:6 3:4; do json_key "$(ls "$TMP"/s${s%:*}/*/run.json)" total "${s#*:}"; done
	json_key "$TMP/merged/run.json" total 16
	json_key "$TMP/merged/run.json" complete true
	cols=backend,workload,threads,repetitions,failed_repetitions,events,alloc_count,free_count
	cols=$cols,failed_allocs,unmatched_frees,peak_live_bytes_req,peak_live_bytes_alloc
	cols=$cols,peak_footprint_bytes,footprint_at_peak_live_bytes,internal_frag_pct
	cols=$cols,jw_footprint_at_peak_live_ratio,jw_peak_footprint_ratio,peak_at_op,sleeps
	cols=$cols,nofail_retries,reserve_allocs,meta_bytes_at_end,extfrag_unusable_pct
	pick() { # the columns above of summary.csv $1, sorted
		awk -F, -v cols="$cols" 'NR == 1 { n = split(cols, c, ","); for (i = 1; i <= NF; i++) ix[$i] = i; next }
			{ s = ""; for (k = 1; k <= n; k++) s = s (k > 1 ? "," : "") $(ix[c[k]]); print s }' "$1" | sort
	}
	pick "$one/summary.csv" >"$TMP/one.txt"
	pick "$TMP/merged/summary.csv" >"$TMP/merged.txt"
	[ "$(wc -l <"$TMP/one.txt")" = 8 ] || fail "expected 8 cells: $(cat "$TMP/one.txt")"
	diff "$TMP/one.txt" "$TMP/merged.txt" >"$TMP/diff" || fail "merged figures differ: $(cat "$TMP/diff")"
	diff <(sort "$one/frames.csv") <(sort "$TMP/merged/frames.csv") >"$TMP/diff" ||
		fail "frames.csv differs: $(cat "$TMP/diff")"
	for k in events plan_ops peak_live_bytes_req; do
		[ "$(grep "\"$k\"" "$one/run.json")" = "$(grep "\"$k\"" "$TMP/merged/run.json")" ] ||
			fail "trace fact $k differs"
	done
	for f in report.md report.html latency.png sizeclass.png footprint.png frag.png scaling.png \
		frames-exhaust.png frames-linux-3.6-boot.png replay/slab-exhaust-r2.json; do
		[ -s "$TMP/merged/$f" ] || fail "merged directory lacks $f"
	done
	# refused: a shard of another seed, a missing shard, a shard twice, no shard, a used OUT
	expect_exit 0 "$KMB" run "${@/11/12}" --shard 2/3 --out "$TMP/other"
	expect_exit 2 "$KMB" merge "$TMP"/s1/*/ "$TMP"/other/*/ "$TMP"/s3/*/ -o "$TMP/m2"
	has "$TMP/err" 'not shards of one run: their "seed" differ'
	[ ! -e "$TMP/m2" ] || fail "a refused merge wrote $TMP/m2"
	expect_exit 2 "$KMB" merge "$TMP"/s1/*/ "$TMP"/s3/*/ -o "$TMP/m2"
	has "$TMP/err" "shard 2/3 is missing (2 of 3 given)"
	expect_exit 2 "$KMB" merge "$TMP"/s1/*/ "$TMP"/s1/*/ "$TMP"/s3/*/ -o "$TMP/m2"
	has "$TMP/err" "shard 1/3 given twice"
	expect_exit 2 "$KMB" merge "$one" -o "$TMP/m2"
	has "$TMP/err" "not a shard"
	expect_exit 2 "$KMB" merge "$TMP"/s1/*/ "$TMP"/s2/*/ "$TMP"/s3/*/ -o "$TMP/merged"
	has "$TMP/err" "not empty"
	expect_exit 2 "$KMB" run --shard 4/3 --seed 1
	has "$TMP/err" "bad --shard '4/3'"
	expect_exit 2 "$KMB" run --shard 1/3
	has "$TMP/err" "--shard needs --seed"
	expect_exit 2 "$KMB" merge -o "$TMP/m2"
	has "$TMP/err" "which shard directories"
	;;
kmt_bad_values)
	# values the format holds but a replay cannot take: refused at load with the event's
	# index, never a usage panic later in replay (issue 16)
	for f in flags0:'neither M_WAITOK nor M_NOWAIT' flags-both:'both M_WAITOK and M_NOWAIT' \
		flags-unknown:'unknown flag bits' alloc-below-req:'bytes_alloc below bytes_req' \
		req-over-1tib:'bytes_req above the 1 TiB'; do
		K=$SRC/tests/data/kmt-${f%%:*}.kmt
		expect_exit 1 "$KMB" trace stat "$K"
		has "$TMP/err" "kmt-${f%%:*}.kmt: event 1 (CPU 0): ${f#*:}"
		[ "$(wc -l <"$TMP/err")" = 1 ] || fail "one line: $(cat "$TMP/err")"
		expect_exit 1 "$KMB" replay --backend slab --trace "$K"
		has "$TMP/err" "event 1 (CPU 0): ${f#*:}"
	done
	# the text front end makes no such event: __GFP_NOFAIL overrides __GFP_NORETRY (README's
	# GFP table), so the line converts to M_WAITOK|M_NOFAIL and replays
	printf 'a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL|__GFP_NOFAIL|__GFP_NORETRY\n' >"$TMP/nf.trace"
	expect_exit 0 "$KMB" trace convert "$TMP/nf.trace" -o "$TMP/nf.kmt"
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/nf.kmt"
	;;
trace_hostile_strings)
	# control characters in names are refused where read (file:line), so convert --to
	# ftrace cannot forge event lines and nothing raw reaches a terminal; LOST sums
	# saturate; zero-size and dropped events are counted (issue 16)
	printf 'a-1 [000] .... 1.0: kfree: call_site=c1\033[2J ptr=c2\na-1 [000] .... 1.0: kfree: call_site=c1 ptr=c3\n' >"$TMP/esc.trace"
	expect_exit 0 "$KMB" trace stat "$TMP/esc.trace"
	has "$TMP/err" "esc.trace:1: kfree: call_site=c1?\[2J: control character 0x1b"
	! grep -q "$(printf '\033')" "$TMP/err" "$TMP/out" || fail "raw ESC printed"
	expect_exit 0 "$KMB" trace convert "$TMP/esc.trace" --to ftrace -o "$TMP/back.trace"
	[ "$(grep -c ': kfree: ' "$TMP/back.trace")" = 1 ] || fail "events written: $(cat "$TMP/back.trace")"
	expect_exit 1 "$KMB" trace stat "$SRC/tests/data/kmt-ctrl-string.kmt"
	has "$TMP/err" "kmt-ctrl-string.kmt: corrupt .kmt: string 1: control character 0x1b at byte 4"
	printf '%s\n' 'a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=0 bytes_alloc=8 gfp_flags=GFP_KERNEL' \
		'a-1 [000] .... 1.0: kfree: call_site=c1 ptr=c2' 'a-1 [000] .... 1.0: kfree: call_site=c1 ptr=0' \
		'CPU:0 [LOST 18446744073709551615 EVENTS]' 'CPU:1 [LOST 18446744073709551615 EVENTS]' >"$TMP/z.trace"
	expect_exit 0 "$KMB" trace stat "$TMP/z.trace"
	has "$TMP/out" "(failed 0, zero-size 1)"
	has "$TMP/out" "18446744073709551615  (in 2 reports; the sum saturated)"
	expect_exit 0 "$KMB" trace stat --json "$TMP/z.trace"
	json_key "$TMP/out" lost_events 18446744073709551615
	json_key "$TMP/out" zero_size_allocs 1
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/z.trace"
	has "$TMP/out" "trace events not replayed 3 of 3 (NULL allocations, NULL and unmatched frees, 1 zero-size"
	expect_exit 0 "$KMB" replay --backend slab --trace "$TMP/z.trace" --json
	json_key "$TMP/out" zero_size_allocs 1
	json_key "$TMP/out" events_not_replayed 3
	;;
oom_reported)
	# the process out of memory (ulimit -v) is said as such: tcmalloc refused at boot rather
	# than aborting inside the library, mimalloc's NULL an out-of-memory panic rather than a
	# deadlock with every page free (issue 16).  Sanitizers reserve terabytes: no ulimit -v.
	(ulimit -v 300000 && "$KMB" list >/dev/null 2>&1) || exit 77
	seen=""
	for b in tcmalloc mimalloc; do
		"$KMB" replay --backend $b --mem 16M >/dev/null 2>&1 || continue # not installed
		for v in 40000 48000 56000 64000; do
			(ulimit -v $v && exec "$KMB" replay --backend $b --mem 16M) >"$TMP/out" 2>"$TMP/err"
			rc=$?
			[ $rc -le 1 ] || fail "$b under ulimit -v $v: exit $rc: $(head -c 400 "$TMP/err")"
			! grep -q "deadlock\|FATAL" "$TMP/err" || fail "$b under ulimit -v $v: $(head -c 400 "$TMP/err")"
			[ $rc = 0 ] || grep -q "out of memory in the $b baseline\|cannot create replay thread 1 of 1\|ulimit -v?" "$TMP/err" ||
				fail "$b under ulimit -v $v: $(head -c 400 "$TMP/err")"
			grep -q "out of memory in the $b baseline" "$TMP/err" && seen="$seen $b"
		done
	done
	for b in tcmalloc mimalloc; do
		! "$KMB" replay --backend $b --mem 16M >/dev/null 2>&1 || case $seen in *$b*) ;; *) fail "no limit made $b say out of memory" ;; esac
	done
	;;
thread_limit_reported)
	# pthread_create failing (RLIMIT_NPROC) is said as such, not blamed on trace event 0;
	# root is exempt from ulimit -u, so run as nobody
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || exit 77
		AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	else
		AS=""
	fi
	# LeakSanitizer needs a thread of its own at exit: none here
	(ulimit -u 1 && ASAN_OPTIONS=detect_leaks=0 exec $AS "$KMB" replay --backend slab --threads 2 \
		--mem 16M) >"$TMP/out" 2>"$TMP/err"
	rc=$?
	grep -q "^setpriv" "$TMP/err" && exit 77 # nobody already over the limit: cannot switch
	[ $rc = 1 ] || fail "exit $rc: $(cat "$TMP/err")"
	has "$TMP/err" "replay on slab aborted before any operation: set-up: cannot create replay thread 1 of 2: Resource temporarily unavailable"
	! grep -q "trace event 0" "$TMP/err" || fail "blamed on an event: $(cat "$TMP/err")"
	;;
topology_xml_files)
	# --topology FILE.xml: read whole and bounded by kmbench, never by hwloc from the path;
	# a FIFO (blocked forever), /dev/zero (read without end) or a huge file refused at once
	# (issue 16)
	expect_exit 0 "$KMB" replay --backend slab --threads 2 --topology "$SRC/tests/data/topo-2node.xml"
	has "$TMP/out" "topo-2node.xml: numa:2 core:4 pu:4"
	mkfifo "$TMP/fifo.xml" || exit 77
	ln -s /dev/zero "$TMP/zero.xml"
	head -c 9000000 /dev/zero >"$TMP/big.xml"
	for f in fifo:"a FIFO, not a regular file" zero:"a character device, not a regular file" \
		big:"larger than the 8 MiB"; do
		expect_exit 2 timeout 10 "$KMB" replay --backend slab --topology "$TMP/${f%%:*}.xml"
		has "$TMP/err" "bad --topology '$TMP/${f%%:*}.xml': ${f#*:}"
	done
	expect_exit 2 "$KMB" replay --backend slab --topology "$TMP/none.xml"
	has "$TMP/err" "none.xml': No such file or directory"
	;;
sites_100k)
	# 100 000 distinct call sites, a malloc type each: created and destroyed in O(1) each
	# (a walk each made it 71 s); memory per type is counted in test_kmalloc
	# (type_memory_counted), not timed here (issue 16)
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a-1 [000] .... 1.%06d: kmalloc: call_site=%x ptr=%x bytes_req=32 bytes_alloc=32 gfp_flags=GFP_KERNEL\n", i, 3238002688 + i, 268435456 + 16 * i;
		for (i = 0; i < 100000; i++) printf "a-1 [000] .... 2.%06d: kfree: call_site=c1 ptr=%x\n", i, 268435456 + 16 * i }' >"$TMP/sites.trace"
	expect_exit 0 "$KMB" replay --backend slab --mem 16M --no-timing --trace "$TMP/sites.trace" --json
	json_key "$TMP/out" events 200000
	json_key "$TMP/out" ops 200000
	[ "$(grep -c '"type": "c1' "$TMP/out")" = 100000 ] || fail "types: $(grep -c '"type": "c1' "$TMP/out")"
	;;
kmt_shrinks_while_read)
	# a .kmt truncated while it is read: an error ("truncated?") or a whole read, never
	# SIGBUS (it was mapped; issue 16)
	expect_exit 0 "$KMB" trace gen larson --events 300000 --cpus 2 -o "$TMP/big.kmt"
	for i in $(seq 1 12); do
		cp "$TMP/big.kmt" "$TMP/x.kmt"
		"$KMB" trace stat "$TMP/x.kmt" >/dev/null 2>"$TMP/err" &
		pid=$!
		sleep "0.0$((i % 4))"
		truncate -s $((i * 1000)) "$TMP/x.kmt"
		wait $pid
		rc=$?
		[ $rc -le 1 ] || fail "exit $rc (a signal?) after truncating to $((i * 1000)) bytes"
		[ $rc = 0 ] || grep -q "x.kmt: \(corrupt .kmt\|shorter\)" "$TMP/err" ||
			fail "no message: $(cat "$TMP/err")"
	done
	;;
mem_from_trace)
	# issue 15: without --mem the memory is sized from the trace's peak live bytes (3 MiB
	# here) times the copies; a --mem below one copy's peak is refused up front
	for i in 1 2 3; do
		printf '  t-1 [000] .... 0.%06d: kmalloc: call_site=c104de4f ptr=c1%06x bytes_req=1048576 bytes_alloc=1048576 gfp_flags=GFP_KERNEL\n' $i $i
	done >"$TMP/big.trace"
	expect_exit 0 "$KMB" replay --trace "$TMP/big.trace"
	has "$TMP/out" "sized from the trace: 256 MiB: peak live 3.0 MiB x 1 copy x headroom 3"
	has "$TMP/out" "of 256 MiB)"
	expect_exit 0 "$KMB" replay --trace "$TMP/big.trace" --replicate 32 --threads 2
	has "$TMP/out" "sized from the trace: 384 MiB: peak live 3.0 MiB x 32 copies"
	has "$TMP/out" "of 384 MiB)"
	expect_exit 2 "$KMB" replay --trace "$TMP/big.trace" --mem 2M
	has "$TMP/err" "kmbench replay: --mem 2 MiB cannot hold one copy of the trace: the peak live requested bytes of its allocations that may not fail (no M_NOWAIT) are 3145728 (3.0 MiB)"
	expect_exit 0 "$KMB" replay --trace "$TMP/big.trace" --mem 16M --no-timing
	expect_exit 2 "$KMB" run --trace "$TMP/big.trace" --mem 2M --out "$TMP/runs"
	has "$TMP/err" "kmbench run: workload big: --mem 2 MiB cannot hold one copy"
	[ ! -e "$TMP/runs" ] || fail "a refused run wrote $(ls "$TMP/runs")"
	expect_exit 0 "$KMB" run --trace "$TMP/big.trace" --backends slab --threads 1,2 \
		--repetitions 1 --ops 1000 --no-frames --quick --out "$TMP/runs"
	has "$TMP/err" "kmbench run: big: simulated memory 64 MiB: peak live 3.0 MiB x 2 copies"
	d=$(ls -d "$TMP/runs"/*/ | head -1)
	has "$d/run.json" '"mem_rule": "64 MiB: peak live 3.0 MiB x 2 copies x headroom 3'
	json_key "$d/run.json" mem_from_traces true
	;;
trace_stat_batched_free)
	# Linux 6.x reports a folio freed in a batch twice: mm_page_free (free_pages_prepare),
	# then mm_page_free_batched (free_unref_folios) a few frees later; 3.x the other way
	# round.  Counted once; a pfn allocated again in between is a new free (issue 15).
	{
		l() { printf '  ar-9 [001] ..... 1.%06d: %s\n' "$1" "$2"; }
		l 1 "mm_page_alloc: page=0000000011 pfn=0x1000 order=0 migratetype=1 gfp_flags=GFP_KERNEL"
		l 2 "mm_page_alloc: page=0000000012 pfn=0x1001 order=0 migratetype=1 gfp_flags=GFP_KERNEL"
		l 3 "mm_page_free: page=0000000011 pfn=0x1000 order=0"
		l 4 "mm_page_free: page=0000000012 pfn=0x1001 order=0"
		l 5 "mm_page_free_batched: page=0000000011 pfn=0x1000 order=0"
		l 6 "mm_page_free_batched: page=0000000012 pfn=0x1001 order=0"
		l 7 "mm_page_alloc: page=0000000011 pfn=0x1000 order=0 migratetype=1 gfp_flags=GFP_KERNEL"
		l 8 "mm_page_free_batched: page=0000000011 pfn=0x1000 order=0"
		l 9 "mm_page_free: page=0000000011 pfn=0x1000 order=0"
		l 10 "mm_page_free: page=0000000013 pfn=0x2000 order=0"
	} >"$TMP/b.trace"
	expect_exit 0 "$KMB" trace stat "$TMP/b.trace"
	has "$TMP/out" "page events  *3 alloc, 4 free"
	has "$TMP/out" "^  0  *3  *4$"
	has "$TMP/out" "frees of pages not live 1,"
	has "$TMP/out" "3 frees reported twice (mm_page_free and mm_page_free_batched of one pfn), counted once"
	expect_exit 0 "$KMB" trace stat --json "$TMP/b.trace"
	json_key "$TMP/out" page_free_events 4
	json_key "$TMP/out" repeated_frees 3
	;;
trace_symbols)
	# --kallsyms/--system-map name raw call sites, nearest symbol below, wherever call sites
	# are shown; TRACE.syms beside a trace is found by itself (issue 15)
	MAP=$SRC/tests/data/linux-3.6-boot.System.map
	expect_exit 0 "$KMB" trace stat --system-map "$MAP" --sort hit --line 6
	has "$TMP/out" "^ kmbtest_site_b780+0x2a  *| *7782400/4096 "
	has "$TMP/out" "^ kmbtest_site_c380+0xe  *|"
	has "$TMP/out" "^ kmbtest_weak_4b00+0x52  *|"
	has "$TMP/out" "^ kmbtest_site_6500+0x9f  *|"
	has "$TMP/out" "^ kmbtest_site_c300+0x69  *|"
	has "$TMP/out" "^ kmbtest_site_d600+0x34  *|"
	expect_exit 0 "$KMB" trace stat --kallsyms "$MAP" --json
	has "$TMP/out" '"kmbtest_site_b780+0x2a"'
	expect_exit 0 "$KMB" replay --backend slab --system-map "$MAP" --no-timing
	has "$TMP/out" "^ *kmbtest_site_c300+0x69  *501 "
	cp "$TRACE" "$TMP/boot.trace"
	cp "$MAP" "$TMP/boot.trace.syms"
	expect_exit 0 "$KMB" trace stat "$TMP/boot.trace" --sort hit --line 6
	has "$TMP/out" "^ kmbtest_site_c380+0xe  *|"
	echo garbage >"$TMP/boot.trace.syms" # found by itself: ignored, said
	expect_exit 0 "$KMB" trace stat "$TMP/boot.trace" --sort hit --line 6
	has "$TMP/err" "boot.trace.syms:1: not .*: ignored"
	has "$TMP/out" "^ c10bc38e  *|"
	cp "$MAP" "$TMP/boot.trace.syms"
	expect_exit 0 "$KMB" run --trace "$TMP/boot.trace" --backends slab --threads 1 \
		--repetitions 1 --ops 1000 --no-frames --out "$TMP/runs"
	d=$(ls -d "$TMP/runs"/*/ | head -1)
	has "$d/report.md" "^| kmbtest\\\\_site\\\\_[0-9a-f]*+0x[0-9a-f]* |"
	printf 'c1000000 T ok\nnot a map\n' >"$TMP/bad.map"
	expect_exit 1 "$KMB" trace stat --system-map "$TMP/bad.map"
	has "$TMP/err" "bad.map:2: not \"ADDR TYPE NAME\" (System.map or /proc/kallsyms)"
	printf '0000000000000000 T zero\n' >"$TMP/zero.map"
	expect_exit 1 "$KMB" replay --kallsyms "$TMP/zero.map"
	has "$TMP/err" "zero.map: no text symbol with an address"
	expect_exit 1 "$KMB" trace stat --kallsyms "$TMP/none.map"
	has "$TMP/err" "none.map: No such file or directory"
	;;
help_true)
	# help texts say what the parsers take (issue 15): every long option of a command's
	# table in the source is in its --help; top-level help names the trace tools and the
	# five default workloads; no printf escapes printed literally; --version
	opts_of() { # opts_of FILE N: the long options of the N-th option table of FILE
		awk -v n="$2" '/static const struct option opts/ { k++ } k == n' "$SRC/bench/$1" |
			sed -n 's/.*{"\([a-z-]*\)", \(required\|no\)_argument.*/\1/p' | sed '/^help$/,$d'
	}
	check() { # check FILE N COMMAND...
		local f=$1 n=$2; shift 2
		expect_exit 0 "$KMB" "$@" --help
		for o in $(opts_of "$f" "$n"); do has "$TMP/out" "--$o"; done
		grep -q '%%' "$TMP/out" && fail "$* --help prints a literal %%"
		[ -n "$(opts_of "$f" "$n")" ] || fail "no options found in $f"
	}
	check run.c 1 run
	check replay_cmd.c 1 replay
	check trace_cmd.c 1 trace stat
	check trace_cmd.c 2 trace convert
	check trace_cmd.c 3 trace record
	check trace_gen_cmd.c 1 trace gen
	check compare_cmd.c 1 compare
	expect_exit 0 "$KMB" --help
	for w in stat convert record gen linux-3.6-boot vfs-cache larson netrx exhaust; do
		has "$TMP/out" "$w"
	done
	grep -q "default workload;" "$TMP/out" && fail "one default workload?"
	expect_exit 0 "$KMB" --version
	grep -Eq '^kmbench [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{12}|unknown)(\+dirty)?\)$' "$TMP/out" ||
		fail "--version: $(cat "$TMP/out")"
	;;
replay_contexts)
	# the irq-flags column: events replayed in their context; a GFP_KERNEL allocation the
	# trace made in softirq is reported with file:line and served, or stops the replay
	# under --strict-context; trace stat lists its call site
	C=$SRC/tests/data/contexts/linux-6.8.ftrace
	expect_exit 0 "$KMB" replay --trace "$C" --mem 16M --json
	json_key "$TMP/out" intr_allocs 4
	json_key "$TMP/out" intr_sleeping_allocs 1
	json_key "$TMP/out" aborted false
	has "$TMP/err" "linux-6.8.ftrace:17: sleeping allocation in softirq context (buggy_rx_refill+0x2c/0x90, 512 bytes)"
	expect_exit 1 "$KMB" replay --trace "$C" --mem 16M --strict-context
	has "$TMP/err" "context panic: kmalloc(512, buggy_rx_refill+0x2c/0x90, M_WAITOK) in softirq context: sleeping function called from invalid context \[$C:17\]"
	expect_exit 0 "$KMB" trace stat "$C"
	has "$TMP/out" "sleeping GFP mask in interrupt context"
	has "$TMP/out" "buggy_rx_refill+0x2c/0x90 *softirq *1 *17"
	expect_exit 0 "$KMB" trace stat --json "$SRC/tests/data/contexts/trace-cmd-latency.report"
	has "$TMP/out" '"NMI": 1'
	# through .kmt (version 2) the same
	expect_exit 0 "$KMB" trace convert "$C" -o "$TMP/c.kmt"
	expect_exit 0 "$KMB" replay --trace "$TMP/c.kmt" --mem 16M --json
	json_key "$TMP/out" intr_sleeping_allocs 1	# the two workloads of issue 14: listed, deterministic, the irq one replayed in context
	expect_exit 0 "$KMB" list
	has "$TMP/out" "speculative"
	has "$TMP/out" "irq "
	for w in speculative irq; do
		expect_exit 0 "$KMB" trace gen $w --events 3000 --seed 5 -o "$TMP/$w.1"
		expect_exit 0 "$KMB" trace gen $w --events 3000 --seed 5 -o "$TMP/$w.2"
		cmp -s "$TMP/$w.1" "$TMP/$w.2" || fail "trace gen $w: same seed, other bytes"
	done
	expect_exit 0 "$KMB" replay --trace "$TMP/irq.1" --threads 2 --json
	grep -Eq '"intr_allocs": [1-9][0-9]*,' "$TMP/out" || fail "irq: no allocation in interrupt context"
	json_key "$TMP/out" intr_sleeping_allocs 0
	# Linux kfree(NULL): the bundled trace's 274 are replayed as calls and counted in ops
	expect_exit 0 "$KMB" replay --json --no-timing
	json_key "$TMP/out" kfree_null 274
	json_key "$TMP/out" ops 11529
	;;
*)
	fail "no such case"
	;;
esac
exit 0
