/*
 * bench/engine/paths.c - where kmbench's own files are, found at run time so that no path
 * of the build machine is compiled in (an installed kmbench runs anywhere; `strings` of it
 * shows no source or build directory).
 *
 * 1. The executable's directory: /proc/self/exe.
 * 2. Build tree.  CMake writes CMakeCache.txt into the build directory, where kmbench and
 *    kmbench-micro are (tests one or two levels below): its line
 *    "kmbench_SOURCE_DIR:STATIC=DIR" names the source tree (the bundled traces,
 *    results/runs).
 * 3. Installed.  Otherwise the data is under PREFIX/share/kmbench, the executable being in
 *    PREFIX/bin (cmake --install; README "Installing"), with the source tree's layout
 *    (PREFIX/share/kmbench/workloads/traces/...).
 */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char exe_dir[PATH_MAX], src_dir[PATH_MAX];
static int found; /* 0 not looked yet, 1 looked */

/* DIR from "kmbench_SOURCE_DIR:STATIC=DIR" in dir/CMakeCache.txt (2.). */
static bool cache_source(const char *dir)
{
	static const char key[] = "kmbench_SOURCE_DIR:STATIC=";
	char path[PATH_MAX + 32], line[PATH_MAX + 64];
	FILE *f;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/CMakeCache.txt", dir);
	if (!(f = fopen(path, "r")))
		return false;
	while (!ok && fgets(line, sizeof(line), f))
		if (strncmp(line, key, sizeof(key) - 1) == 0) {
			size_t n = strcspn(line + sizeof(key) - 1, "\n");

			ok = n > 0 && n < sizeof(src_dir);
			if (ok)
				memcpy(src_dir, line + sizeof(key) - 1, n), src_dir[n] = '\0';
		}
	fclose(f);
	return ok;
}

static void look(void)
{
	char parent[PATH_MAX + 4];
	ssize_t n;

	if (found)
		return;
	found = 1;
	n = readlink("/proc/self/exe", exe_dir, sizeof(exe_dir) - 1);
	if (n <= 0) {
		exe_dir[0] = '\0';
		return;
	}
	exe_dir[n] = '\0';
	*(strrchr(exe_dir, '/') ? strrchr(exe_dir, '/') : exe_dir) = '\0';
	src_dir[0] = '\0';
	for (int up = 0; up < 3 && !src_dir[0]; up++) /* kmbench, tests/, tests/fuzz/ */
		if (snprintf(parent, sizeof(parent), "%s%s", exe_dir,
		             up == 0   ? ""
		             : up == 1 ? "/.."
		                       : "/../..") < (int)sizeof(parent))
			cache_source(parent);
}

const char *kmb_source_dir(void)
{
	look();
	return src_dir[0] ? src_dir : NULL;
}

int kmb_data_path(const char *rel, char *buf, size_t len)
{
	look();
	if (kmb_source_dir())
		return snprintf(buf, len, "%s/%s", src_dir, rel) < (int)len ? 0 : -ENAMETOOLONG;
	if (!exe_dir[0])
		return -ENOENT;
	return snprintf(buf, len, "%s/../share/kmbench/%s", exe_dir, rel) < (int)len
	               ? 0
	               : -ENAMETOOLONG;
}
