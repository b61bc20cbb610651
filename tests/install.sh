#!/usr/bin/env bash
# tests/install.sh - kmbench installed and used from the installed tree alone (issue 15):
# cmake --install into a temporary prefix; a program calling kmalloc and the kr plugin built
# with nothing but `pkg-config --cflags --libs kmbench`; the same program through
# find_package(kmbench); the plugin replayed by the installed kmbench on the bundled trace
# it finds under the prefix; no path of the source or build tree in the installed files.
# Usage: install.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL [install]: $*" >&2; exit 1; }
run() { "$@" >"$TMP/out" 2>&1 || fail "$*: $(head -c 1500 "$TMP/out")"; }
command -v pkg-config >/dev/null || { echo "no pkg-config: skipped"; exit 77; }
P=$TMP/prefix
run cmake --install "$BUILD" --prefix "$P"
for f in bin/kmbench bin/kmbench-micro lib/libkmbench.a include/kmbench/kmalloc.h \
	include/kmbench/backend.h lib/pkgconfig/kmbench.pc lib/cmake/kmbench/kmbenchConfig.cmake \
	share/kmbench/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
# the installed tree alone: moved away from where it was installed
mv "$P" "$TMP/moved"; P=$TMP/moved
export PKG_CONFIG_PATH=$P/lib/pkgconfig
cat >"$TMP/prog.c" <<'C'
#include <kmbench/kmbench.h>
#include <stdio.h>
#include <string.h>

MALLOC_DEFINE(M_DEMO, "demo", "a program built against an installed kmbench");

int main(void)
{
	struct kmb_config cfg = {.backend = "slab", .mem_bytes = 64 << 20};
	char *p;

	if (kmb_boot(&cfg) != 0 || kmb_thread_attach("main", 0) != 0)
		return 1;
	p = kmalloc(100, M_DEMO, M_WAITOK | M_ZERO);
	if (p == NULL || p[99] != 0)
		return 2;
	memset(p, 1, 100);
	kfree(p, M_DEMO);
	kmb_thread_detach();
	printf("kmalloc ok\n");
	return kmb_shutdown() == 0 ? 0 : 3;
}
C
cd "$TMP" || exit 1
run cc -std=c11 -Wall -Wextra -Werror prog.c $(pkg-config --cflags --libs kmbench) -o prog
run ./prog
grep -q "kmalloc ok" "$TMP/out" || fail "prog: $(cat "$TMP/out")"
run cc -std=c11 -Wall -Wextra -Werror -shared -fPIC "$SRC/backends/kr-plugin/kr.c" \
	$(pkg-config --cflags kmbench) -o kr.so
cd / || exit 1 # no source tree around: the trace comes from the prefix
run "$P/bin/kmbench" replay --backend "plugin:$TMP/kr.so" --no-timing
grep -q "share/kmbench/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log on plugin:" "$TMP/out" ||
	fail "replay: $(head -3 "$TMP/out")"
grep -q "failed allocs 0," "$TMP/out" || fail "replay failed allocations: $(cat "$TMP/out")"
run "$P/bin/kmbench" --version
# find_package(kmbench)
mkdir -p "$TMP/pkg"
cp "$TMP/prog.c" "$TMP/pkg/prog.c"
cat >"$TMP/pkg/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.22)
project(uses_kmbench C)
find_package(kmbench 0.1 REQUIRED CONFIG)
add_executable(prog prog.c)
target_link_libraries(prog PRIVATE kmbench::kmbench)
CM
run cmake -S "$TMP/pkg" -B "$TMP/pkg/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_STANDARD=11
run cmake --build "$TMP/pkg/build"
run "$TMP/pkg/build/prog"
# no path of this machine's source or build tree in what was installed (a sanitizer build
# excepted: GCC 12 keeps the absolute source names in the sanitizers' location data, which
# -ffile-prefix-map does not remap)
if grep -q '^CMAKE_C_FLAGS:.*-fsanitize=' "$BUILD/CMakeCache.txt"; then
	echo "a sanitizer build: the path check is skipped"
	exit 0
fi
for f in "$P"/bin/* "$P"/lib/*.a "$P"/lib/pkgconfig/* "$P"/lib/cmake/kmbench/*; do
	for d in "$SRC" "$BUILD"; do
		if strings "$f" | grep -qF "$d"; then
			fail "$f names $d: $(strings "$f" | grep -F "$d" | head -3)"
		fi
	done
done
exit 0
