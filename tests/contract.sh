#!/bin/bash
# tests/contract.sh SRC CASE [CC [CMAKE]] - the backend contract holds for the tree, not only
# for the build: backends use include/kmbench/ alone, a plugin builds with one line, and a
# backend builds and passes its conformance suite with no other backend folder.
set -eu
src=$1
case=$2

case $case in
backends_use_the_contract)
	# no core-private header, no core-private thread or system state (issue 12)
	bad=$(grep -rlE '#[[:space:]]*include[[:space:]]*["<]core/|kmb__self|kmb__sys\b' \
		"$src/backends" || true)
	if [ -n "$bad" ]; then
		echo "backends that use the core's internals instead of kmbench/backend.h:" >&2
		echo "$bad" >&2
		exit 1
	fi
	;;
plugin_builds_with_one_line)
	# the line backends/README.md gives plugin authors
	cc=${3:-cc}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	line=$(sed -n 's/^    \(cc -std=c11 .*kr\.c\)$/\1/p' "$src/backends/README.md")
	[ -n "$line" ] || { echo "no compiler line in backends/README.md" >&2; exit 1; }
	(cd "$src" && eval "${line/#cc /$cc } -Wall -Wextra -Werror -o $tmp/kr.so")
	nm -D --defined-only "$tmp/kr.so" | grep -q ' kmb_backend_plugin$'
	nm -D --defined-only "$tmp/kr.so" | grep -q ' kmb_backend_plugin_abi$'
	;;
backend_subset_builds)
	# vmem alone: it used to need the buddy backend (its page source and watermarks)
	cc=${3:-cc}
	cmake=${4:-cmake}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$cmake" -S "$src" -B "$tmp" -DKMB_BACKENDS=vmem -DKMB_WERROR=ON \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" >"$tmp/configure.log" 2>&1 ||
		{ cat "$tmp/configure.log" >&2; exit 1; }
	"$cmake" --build "$tmp" --target test_kmalloc -j2 >"$tmp/build.log" 2>&1 ||
		{ tail -50 "$tmp/build.log" >&2; exit 1; }
	ctest --test-dir "$tmp" -R '^conformance/vmem/' -j2 --output-on-failure --no-tests=error
	;;
*)
	echo "unknown case $case" >&2
	exit 2
	;;
esac
