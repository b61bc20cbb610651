/*
 * bench/plot_cmd.c - `kmbench plot DIR`: re-render a results directory.
 *
 * Runs gnuplot on every .gp script in DIR (in name order; each writes its PNG and SVG next
 * to itself), then rebuilds report.md and report.html, which embed the PNGs.  The scripts
 * and data are plain files a user may have edited: this is how the edits take effect.
 * Without gnuplot the first failure says so ("gnuplot not found: apt-get install
 * gnuplot-nox") and nothing else is attempted; the data are untouched either way.
 * Exit status: 0, 1 (a plot or the report failed), 2 (usage).
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/results.h"

static const char plot_usage[] =
        "usage: kmbench plot DIR\n\n"
        "Re-render the plots of a results directory of kmbench run (gnuplot on every .gp\n"
        "script there: PNG and SVG), then rebuild report.md and report.html.  Edit a .gp or\n"
        ".dat file and run this to see the change.\n";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .gp files of dir, sorted (malloc'd names); -errno on failure. */
static int list_scripts(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".gp") != 0)
			continue;
		if (*n == cap) {
			char **nl = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof(*nl));

			if (nl == NULL)
				break;
			*out = nl;
		}
		if (((*out)[*n] = strdup(e->d_name)) != NULL)
			(*n)++;
	}
	closedir(d);
	qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

static int render_all(const char *dir, char **names, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX], err[2048];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = kmb_plot_render(path, err, sizeof(err));
		if (rc == -ENOENT && strstr(err, "gnuplot not found")) {
			fprintf(stderr, "kmbench plot: %s\n", err);
			return -ENOENT;
		}
		if (rc != 0) {
			fprintf(stderr, "kmbench plot: %s: %s\n", names[i], err);
			failed++;
		} else {
			printf("rendered %s\n", names[i]);
		}
	}
	return failed;
}

int kmb_cmd_plot(int argc, char **argv)
{
	struct stat st;
	char **names, err[1200];
	size_t n;
	int rc, status = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(plot_usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return kmb_cli_error("plot", argc < 2 ? "which results directory?"
		                                      : "expected one results directory");
	if (stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kmbench plot: %s: %s\n", argv[1],
		        access(argv[1], F_OK) != 0 ? strerror(errno) : "not a directory");
		return 1;
	}
	if ((rc = list_scripts(argv[1], &names, &n)) != 0) {
		fprintf(stderr, "kmbench plot: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	if (n == 0)
		fprintf(stderr, "kmbench plot: no .gp scripts in %s\n", argv[1]);
	rc = render_all(argv[1], names, n);
	if (rc != 0 || n == 0)
		status = 1;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (kmb_report_write(argv[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench plot: report: %s\n", err);
		return 1;
	}
	printf("report: %s/report.html, %s/report.md\n", argv[1], argv[1]);
	return status;
}
