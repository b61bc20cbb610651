/*
 * results/plot.c - latency plots through gnuplot.
 *
 * The plot is HdrHistogram's percentile plot: x = 1/(1 - p) on a log axis, so each
 * decade is one more "nine" (10 = 90%, 100 = 99%, 1000 = 99.9%, ...), y = latency in ns,
 * log too.  The points are the .hgrm rows (kmb_hist_pct_next with 5 ticks per half
 * distance) minus the 100% row, whose x is infinite.
 *
 * Data and script are ordinary files next to the images, so a user can edit the .gp
 * and run `gnuplot <basename>.gp` in that directory; the script picks pngcairo when the
 * gnuplot at hand has it (GPVAL_TERMINALS), else libgd's png, and renders the same plot
 * again as SVG with `replot`.  Text is noenhanced: allocator names contain '_' and '^'
 * would otherwise become sub/superscripts.
 *
 * gnuplot runs via posix_spawnp (no shell, so no quoting of paths), cwd = the script's
 * directory, stdin/stdout on /dev/null, stderr into a pipe that becomes err on failure.
 * gnuplot exits non-zero after an error in a script file.
 */
#include "results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KMB_GNUPLOT_PATH
#define KMB_GNUPLOT_PATH ""
#endif

#define PLOT_NOT_FOUND "gnuplot not found: apt-get install gnuplot-nox"
#define PLOT_TICKS     5

extern char **environ;

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

static const char *gnuplot_path(void)
{
	const char *env = getenv("KMB_GNUPLOT");

	if (env != NULL && env[0] != '\0')
		return env;
	if (KMB_GNUPLOT_PATH[0] != '\0' && access(KMB_GNUPLOT_PATH, X_OK) == 0)
		return KMB_GNUPLOT_PATH;
	return "gnuplot";
}

/* ---- running gnuplot ----------------------------------------------------------------- */

static int plot_spawn(pid_t *pid, const char *gp, const char *dir, const char *script, int errfd)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)gp, (char *)script, NULL};
	int r = posix_spawn_file_actions_init(&fa);

	if (r != 0)
		return -r;
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	if (r == 0)
		r = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (r == 0)
		r = posix_spawnp(pid, gp, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

/* Reads fd to EOF, keeping what fits in err (NUL-terminated, trailing space trimmed). */
static void plot_drain(int fd, char *err, size_t errlen)
{
	size_t used = 0;
	char sink[512];

	for (;;) {
		char *dst = used + 1 < errlen ? err + used : sink;
		size_t room = used + 1 < errlen ? errlen - 1 - used : sizeof(sink);
		ssize_t n = read(fd, dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			used += (size_t)n;
	}
	while (used > 0 && strchr(" \t\r\n", err[used - 1]) != NULL)
		used--;
	if (errlen > 0)
		err[used] = '\0';
}

static int plot_wait(pid_t pid, char *err, size_t errlen)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		set_err(err, errlen, "");
		return 0;
	}
	if (errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "gnuplot %s %d",
		         WIFEXITED(st) ? "exited with status" : "killed by signal",
		         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return -EIO;
}

int kmb_plot_render(const char *script_path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(script_path, '/'), *script = slash ? slash + 1 : script_path;
	int fds[2], r;
	pid_t pid;

	set_err(err, errlen, "");
	if (access(script_path, R_OK) != 0) {
		r = -errno;
		if (errlen > 0)
			snprintf(err, errlen, "%s: %s", script_path, strerror(-r));
		return r;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		         (int)(slash == script_path ? 1 : slash - script_path), script_path);
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	r = plot_spawn(&pid, gnuplot_path(), dir, script, fds[1]);
	close(fds[1]);
	if (r == 0)
		plot_drain(fds[0], err, errlen);
	close(fds[0]);
	if (r == -ENOENT || r == -EACCES || r == -ENOTDIR) {
		set_err(err, errlen, PLOT_NOT_FOUND);
		return -ENOENT;
	}
	return r != 0 ? r : plot_wait(pid, err, errlen);
}

/* ---- writing data and script --------------------------------------------------------- */

/* A gnuplot single-quoted string: ' doubles, control characters become spaces. */
void kmb__gp_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", out);
		else
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
	}
	fputc('\'', out);
}

/* A comment line's text: control characters become '?'. */
static void put_comment_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
}

static void dat_series(FILE *out, size_t i, const char *name, const struct kmb_hist *h)
{
	struct kmb_hist_pct_iter it;

	fprintf(out, "%s# series %zu: ", i ? "\n\n" : "", i);
	put_comment_text(out, name);
	fputc('\n', out);
	kmb_hist_pct_begin(&it, h, PLOT_TICKS);
	while (kmb_hist_pct_next(&it)) {
		double p = it.percentile / 100.0;

		if (it.percentile < 100.0)
			fprintf(out, "%" PRIu64 " %.12f %" PRIu64 " %.2f\n", it.value, p,
			        it.total_count, 1.0 / (1.0 - p));
	}
}

static int write_dat(const char *path, const char *const *names,
                     const struct kmb_hist *const *hists, size_t n)
{
	struct kmb_file f;
	FILE *out = kmb_file_create(path, &f);

	if (out == NULL)
		return -errno;
	fputs("# kmbench latency percentiles, one block per series (gnuplot index i)\n"
	      "# columns as HdrHistogram .hgrm: value_ns percentile total_count 1/(1-percentile)\n",
	      out);
	for (size_t i = 0; i < n; i++)
		dat_series(out, i, names[i], hists[i]);
	return kmb_file_commit(&f);
}

static void gp_header(FILE *out, const char *base, const char *title)
{
	fprintf(out, "# kmbench latency plot; re-render with: gnuplot %s.gp (in this directory)\n",
	        base);
	fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	      "    set terminal pngcairo size 900,540 noenhanced\n"
	      "} else {\n"
	      "    set terminal png size 900,540 noenhanced\n"
	      "}\n",
	      out);
	fprintf(out, "set output '%s.png'\nset title ", base);
	kmb__gp_quoted(out, title ? title : "");
	fprintf(out, "\nset encoding utf8\nset ytics %s\n", kmb_fig_latency_ytics);
	fputs("set logscale xy\n"
	      "set xlabel 'percentile'\n"
	      "set ylabel 'latency'\n"
	      "set xtics ('0%%' 1, '50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' "
	      "10000, "
	      "'99.999%%' 100000, '99.9999%%' 1000000) # labels are formats: %% is %\n"
	      "set grid xtics ytics\n"
	      "set rmargin 8\n"
	      "set key top left\n",
	      out);
}

static void gp_plot(FILE *out, const char *base, const char *const *names,
                    const struct kmb_hist *const *hists, size_t n)
{
	const char *sep = "plot ";

	for (size_t i = 0; i < n; i++) {
		if (hists[i]->count == 0)
			continue;
		fprintf(out, "%s'%s.dat' index %zu using 4:1 with lines linewidth 2 title ", sep,
		        base, i);
		kmb__gp_quoted(out, names[i]);
		sep = ", \\\n     ";
	}
	if (sep[0] == 'p') /* nothing recorded: an empty frame that says so */
		fputs("set xrange [1:1000000]\nset yrange [1:1000]\n"
		      "set label 1 'no data' at graph 0.5, graph 0.5 center\nplot NaN notitle",
		      out);
	fputc('\n', out);
}

static int write_gp(const char *path, const char *base, const char *const *names,
                    const struct kmb_hist *const *hists, size_t n, const char *title)
{
	struct kmb_file f;
	FILE *out = kmb_file_create(path, &f);

	if (out == NULL)
		return -errno;
	gp_header(out, base, title);
	gp_plot(out, base, names, hists, n);
	fprintf(out,
	        "set terminal svg size 900,540 noenhanced\nset output '%s.svg'\nreplot\n"
	        "unset output\n",
	        base);
	return kmb_file_commit(&f);
}

static int plot_write_failed(const char *path, int r, char *err, size_t errlen)
{
	if (errlen > 0)
		snprintf(err, errlen, "writing %s: %s", path, strerror(-r));
	return r;
}

int kmb_plot_latency(const char *dir, const char *const *series_names,
                     const struct kmb_hist *const *hists, size_t n, const char *title,
                     const char *basename, char *err, size_t errlen)
{
	char dat[PATH_MAX], gp[PATH_MAX];
	int r;

	set_err(err, errlen, "");
	if (strchr(basename, '/') != NULL || strchr(basename, '\'') != NULL || basename[0] == '\0')
		return -EINVAL;
	if ((size_t)snprintf(dat, sizeof(dat), "%s/%s.dat", dir, basename) >= sizeof(dat) ||
	    (size_t)snprintf(gp, sizeof(gp), "%s/%s.gp", dir, basename) >= sizeof(gp))
		return -ENAMETOOLONG;
	r = write_dat(dat, series_names, hists, n);
	if (r != 0)
		return plot_write_failed(dat, r, err, errlen);
	r = write_gp(gp, basename, series_names, hists, n, title);
	if (r != 0)
		return plot_write_failed(gp, r, err, errlen);
	return kmb_plot_render(gp, err, errlen);
}
