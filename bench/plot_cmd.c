/*
 * bench/plot_cmd.c - `kmbench plot DIR`: re-render a results directory.
 *
 * Runs gnuplot on every .gp script in DIR (in name order; each writes its PNG and SVG next
 * to itself), then rebuilds report.md and report.html, which embed the PNGs.  The data
 * are plain files a user may have edited: this is how the edits take effect.  The scripts
 * are code (gnuplot's system() runs commands) and results directories are shared, so
 * each must carry the tag run.json records for it under this user's key
 * (results/script_tag.c); one that does not (edited, or not written by kmbench run for
 * this user) is named and nothing is rendered (exit 2) unless --trust-scripts is given.
 * A run that was killed (run.json still says "running") is first rebuilt from the replay
 * JSON it left (run_rebuild.c).
 * Without gnuplot the first failure says so ("gnuplot not found: apt-get install
 * gnuplot-nox") and nothing else is attempted; the data are untouched either way.
 * Exit status: 0, 1 (a plot or the report failed), 2 (usage, or a script refused).
 */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/results.h"

static const char plot_usage[] =
        "usage: kmbench plot [--trust-scripts] DIR\n\n"
        "Re-render the plots of a results directory of kmbench run (gnuplot on every .gp\n"
        "script there: PNG and SVG), then rebuild report.md and report.html.  Edit a .dat\n"
        "file and run this to see the change.  A run that was killed is completed first\n"
        "from its replay/*.json (marked incomplete, with the true count).\n"
        "  --trust-scripts   also render .gp scripts kmbench run did not write for this user\n"
        "                    (edited, or from someone else): gnuplot scripts can run\n"
        "                    commands (system()), so read them first\n";

/* The scripts whose tag is not the one run.json records, each named on stderr; or -errno. */
static int untrusted(const char *dir, char **names, size_t n)
{
	char path[PATH_MAX], err[PATH_MAX + 100], hex[17];
	const struct kmb_jv *tags;
	struct kmb_jv run = {0};
	uint8_t key[16];
	bool keyed = kmb_script_key(key, false, err, sizeof(err)) == 0;
	int bad = 0;

	if (!keyed)
		fprintf(stderr, "kmbench plot: no script key (%s)\n", err);
	snprintf(path, sizeof(path), "%s/run.json", dir);
	if (kmb_jv_load(path, &run, err, sizeof(err)) != 0)
		fprintf(stderr, "kmbench plot: %s\n", err);
	tags = kmb_jv_get(&run, "scripts");
	for (size_t i = 0; i < n; i++) {
		const char *want = kmb_jv_str(tags, names[i], NULL);

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (keyed && want && kmb_script_tag(key, path, hex) == 0 && strcmp(hex, want) == 0)
			continue;
		fprintf(stderr,
		        "kmbench plot: %s: refused: not a script kmbench run wrote for this "
		        "user (%s)\n",
		        path, !want ? "no tag in run.json" : "its tag does not match");
		bad++;
	}
	kmb_jv_free(&run);
	return bad;
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

static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr, "kmbench plot: %s: %s\n", dir,
	        access(dir, F_OK) != 0 ? strerror(errno) : "not a directory");
	return 1;
}

/* Renders the scripts of dir (if trusted), then the report; the exit status. */
/* A run that was killed (run.json still "running") is rebuilt from its replay JSON:
 * 0 or 1 as the rebuild went, -1 if it was not needed. */
static int rebuild_if_died(const char *dir)
{
	char path[PATH_MAX], err[PATH_MAX + 100];
	struct kmb_jv run;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/run.json", dir);
	if (kmb_jv_load(path, &run, err, sizeof(err)) != 0)
		return -1; /* the report says run.json is missing or unreadable */
	if (kmb_run_died(&run))
		rc = kmb_run_rebuild(dir, &run, false);
	kmb_jv_free(&run);
	return rc;
}

static int plot_dir(const char *dir, bool trust)
{
	char **names, err[1200];
	size_t n;
	int rc, status = 0;

	if ((rc = kmb_list_scripts(dir, &names, &n)) != 0) {
		fprintf(stderr, "kmbench plot: %s: %s\n", dir, strerror(-rc));
		return 1;
	}
	if (!trust && (rc = untrusted(dir, names, n)) != 0) {
		fprintf(stderr,
		        "kmbench plot: nothing rendered: read the %d script%s named above, then "
		        "use --trust-scripts\n",
		        rc, rc == 1 ? "" : "s");
		kmb_free_names(names, n);
		return 2;
	}
	if ((rc = rebuild_if_died(dir)) >= 0) { /* its scripts too */
		status = rc;
		kmb_free_names(names, n);
		if (kmb_list_scripts(dir, &names, &n) != 0)
			names = NULL, n = 0;
	}
	if (n == 0)
		fprintf(stderr, "kmbench plot: no .gp scripts in %s\n", dir);
	rc = render_all(dir, names, n);
	if (rc != 0 || n == 0)
		status = 1;
	kmb_free_names(names, n);
	if (kmb_report_write(dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench plot: report: %s\n", err);
		return 1;
	}
	printf("report: %s/report.html, %s/report.md\n", dir, dir);
	return status;
}

int kmb_cmd_plot(int argc, char **argv)
{
	const char *dir = NULL;
	bool trust = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(plot_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--trust-scripts") == 0) {
			trust = true;
		} else if (argv[i][0] == '-') {
			return kmb_cli_error("plot", "unknown option '%s'", argv[i]);
		} else if (dir != NULL) {
			return kmb_cli_error("plot", "expected one results directory");
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL)
		return kmb_cli_error("plot", "which results directory?");
	return check_dir(dir) != 0 ? 1 : plot_dir(dir, trust);
}
