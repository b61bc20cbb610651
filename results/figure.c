/*
 * results/figure.c - multi-panel gnuplot figures: the plots of `kmbench run` other than
 * the single latency plot of plot.c.
 *
 * A figure is written as two ordinary files next to the images, so that a user can edit
 * and re-render it (`gnuplot <basename>.gp` in the results directory):
 *
 *   <basename>.dat  one block per non-empty series, in panel order, separated by two blank
 *                   lines (gnuplot's "index i"), each opened by a comment naming the panel
 *                   and the series; columns x y [ylo yhi].  Points gnuplot cannot draw
 *                   (NaN, infinities, values <= 0 on a log axis) are left out.
 *   <basename>.gp   one loop over the two outputs (PNG with pngcairo when the gnuplot at
 *                   hand has it, else libgd's png; then SVG), each a multiplot of the
 *                   panels in a rows x cols grid.  Each panel first undoes what the one
 *                   before it set (log scales, tics, ranges, labels), so panels can be
 *                   reordered or deleted by hand.
 *
 * Colours and dashes are fixed per series index (the caller passes a backend's position
 * in the run's backend list, and whether it is a user-space baseline, drawn dashed), so
 * one backend has one colour and dash in every figure of a run.  Text is noenhanced: backend names
 * such as "slab@vmem" or "kmalloc_node" must not become super- or subscripts.
 */
#include "results/results.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <kmbench/backend.h>

/*
 * Kenneth Kelly's 22 colours of maximum contrast ("Twenty-two colors for maximum contrast",
 * Color Engineering 3(6), 1965), in his order (each next colour the most distinct from those
 * before), without his first two, white and black (the background and the live-bytes
 * line): 20 colours, so the 20 backends of a run each get their own.  Hex values as in
 * the usual sRGB rendering of his ISCC-NBS centroids.
 */
static const char *const palette[] = {"#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032",
                                      "#c2b280", "#848482", "#008856", "#e68fac", "#0067a5",
                                      "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300",
                                      "#882d17", "#8db600", "#654522", "#e25822", "#2b3d26"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

const char *kmb_fig_color(unsigned i)
{
	if (i == KMB_FIG_BLACK)
		return "#000000";
	return palette[i % NPALETTE];
}

/*
 * gnuplot dash types: 1 solid, 2 dashed, 4 dash-dot, 5 dash-dot-dot.  A series asking for
 * a dash (a user-space baseline) gets 2, others 1; past the palette's 20 colours the
 * colours come round again with 4 and 5, so colour and dash together stay distinct for
 * 40 series (RUN_MAX_BACKENDS is 32).
 */
int kmb_fig_dash(unsigned i, bool dashed)
{
	bool second_round = i != KMB_FIG_BLACK && i / NPALETTE % 2 == 1;

	return second_round ? (dashed ? 5 : 4) : (dashed ? 2 : 1);
}

/* Decades of nanoseconds named in ns, us (UTF-8 micro sign) and ms up to 10 s: the
 * latencies of a replay, from a few ns to a deadlock detector's seconds. */
const char kmb_fig_latency_ytics[] =
        "('1 ns' 1, '10 ns' 10, '100 ns' 100, '1 \xc2\xb5s' 1e3, '10 \xc2\xb5s' 1e4, "
        "'100 \xc2\xb5s' 1e5, '1 ms' 1e6, '10 ms' 1e7, '100 ms' 1e8, '1 s' 1e9, '10 s' 1e10)";

static bool point_ok(const struct kmb_fig_panel *p, const struct kmb_fig_series *s, size_t i)
{
	double x = s->x[i], y = s->y[i];

	if (!isfinite(x) || !isfinite(y) || (p->logx && x <= 0) || (p->logy && y <= 0))
		return false;
	return s->style != KMB_FIG_ERRORLINES || (isfinite(s->ylo[i]) && isfinite(s->yhi[i]));
}

static size_t series_points(const struct kmb_fig_panel *p, const struct kmb_fig_series *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += point_ok(p, s, i);
	return n;
}

static void put_comment(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
}

/* ---- the data file ---------------------------------------------------------------------- */

static void dat_block(FILE *out, unsigned idx, const struct kmb_fig_panel *p,
                      const struct kmb_fig_series *s)
{
	fprintf(out, "%s# index %u: ", idx ? "\n\n" : "", idx);
	put_comment(out, p->title);
	fputs(" / ", out);
	put_comment(out, s->name ? s->name : "(unnamed)");
	fputc('\n', out);
	for (size_t i = 0; i < s->n; i++) {
		if (!point_ok(p, s, i))
			continue;
		fprintf(out, "%.10g %.10g", s->x[i], s->y[i]);
		if (s->style == KMB_FIG_ERRORLINES)
			fprintf(out, " %.10g %.10g", s->ylo[i], s->yhi[i]);
		fputc('\n', out);
	}
}

static int write_fig_dat(const char *path, const struct kmb_fig *f)
{
	struct kmb_file kf;
	FILE *out = kmb_file_create(path, &kf);
	unsigned idx = 0;

	if (out == NULL)
		return -errno;
	fputs("# kmbench figure data: one block per panel and series (gnuplot index i)\n", out);
	for (size_t p = 0; p < f->npanels; p++)
		for (size_t s = 0; s < f->panels[p].nseries; s++)
			if (series_points(&f->panels[p], &f->panels[p].series[s]) > 0)
				dat_block(out, idx++, &f->panels[p], &f->panels[p].series[s]);
	return kmb_file_commit(&kf);
}

/* ---- the script ------------------------------------------------------------------------- */

static void gp_set_text(FILE *out, const char *what, const char *text)
{
	fprintf(out, "    set %s ", what);
	kmb__gp_quoted(out, text ? text : "");
	fputc('\n', out);
}

static void gp_panel_setup(FILE *out, const struct kmb_fig_panel *p)
{
	static const char *const key[] = {"unset key", "set key top left font ',8' opaque",
	                                  "set key outside right top font ',8'"};

	fputs("    unset logscale\n    unset label\n    unset arrow\n"
	      "    set xtics autofreq\n    set ytics autofreq\n"
	      "    set autoscale xy\n    set offsets 0, 0, 0, 0\n    set grid xtics ytics\n"
	      "    set style fill solid 0.85 border -1\n",
	      out);
	gp_set_text(out, "title", p->title);
	gp_set_text(out, "xlabel", p->xlabel);
	gp_set_text(out, "ylabel", p->ylabel);
	if (p->logx)
		fputs("    set logscale x\n", out);
	if (p->logy)
		fputs("    set logscale y\n", out);
	if (p->xtics)
		fprintf(out, "    set xtics %s\n", p->xtics);
	fprintf(out, "    %s\n", key[p->key >= 0 && p->key <= KMB_FIG_KEY_OUTSIDE ? p->key : 0]);
	if (p->extra)
		for (const char *l = p->extra, *nl; *l; l = nl ? nl + 1 : l + strlen(l)) {
			nl = strchr(l, '\n');
			fprintf(out, "    %.*s\n", (int)(nl ? nl - l : (long)strlen(l)), l);
		}
}

static void gp_series(FILE *out, const char *base, unsigned idx, const struct kmb_fig_series *s)
{
	static const char *const with[] = {
	        [KMB_FIG_LINES] = "using 1:2 with lines lw 2",
	        [KMB_FIG_LINESPOINTS] = "using 1:2 with linespoints lw 2 pt 7 ps 0.6",
	        [KMB_FIG_ERRORLINES] = "using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 0.6",
	        [KMB_FIG_BOXES] = "using 1:2:(%.6g) with boxes"};
	int style = s->style >= KMB_FIG_LINES && s->style <= KMB_FIG_BOXES ? s->style : 0;

	fprintf(out, "'%s.dat' index %u ", base, idx);
	fprintf(out, with[style], s->boxwidth > 0 ? s->boxwidth : 0.8);
	fprintf(out, " dt %d lc rgb '%s' title ", kmb_fig_dash(s->color, s->dashed),
	        kmb_fig_color(s->color));
	if (s->name)
		kmb__gp_quoted(out, s->name);
	else
		fputs("''", out);
}

/* The panel's plot command; idx counts data blocks across panels. */
static void gp_panel_plot(FILE *out, const char *base, const struct kmb_fig_panel *p, unsigned *idx)
{
	const char *sep = "    plot ";

	for (size_t s = 0; s < p->nseries; s++) {
		if (series_points(p, &p->series[s]) == 0)
			continue;
		fputs(sep, out);
		gp_series(out, base, (*idx)++, &p->series[s]);
		sep = ", \\\n         ";
	}
	if (sep[4] == 'p') /* nothing to draw: an empty frame that says so */
		fputs("    unset logscale\n    set xrange [0:1]\n    set yrange [0:1]\n"
		      "    set label 1 'no data' at graph 0.5, graph 0.5 center\n"
		      "    plot NaN notitle",
		      out);
	fputc('\n', out);
}

static void gp_outputs(FILE *out, const struct kmb_fig *f)
{
	fprintf(out,
	        "set encoding utf8\nkmb_w = %u\nkmb_h = %u\n"
	        "do for [kmb_out = 1:2] {\n"
	        "    if (kmb_out == 1) {\n"
	        "        if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	        "            set terminal pngcairo size kmb_w,kmb_h noenhanced font ',10'\n"
	        "        } else {\n"
	        "            set terminal png size kmb_w,kmb_h noenhanced\n"
	        "        }\n"
	        "        set output '%s.png'\n"
	        "    } else {\n"
	        "        set terminal svg size kmb_w,kmb_h noenhanced font ',10'\n"
	        "        set output '%s.svg'\n"
	        "    }\n",
	        f->width, f->height, f->basename, f->basename);
	fprintf(out, "    set multiplot layout %u,%u title ", f->rows, f->cols);
	kmb__gp_quoted(out, f->title ? f->title : "");
	fputc('\n', out);
}

static int write_fig_gp(const char *path, const struct kmb_fig *f)
{
	struct kmb_file kf;
	FILE *out = kmb_file_create(path, &kf);
	unsigned idx = 0;

	if (out == NULL)
		return -errno;
	fputs("# kmbench figure: ", out);
	put_comment(out, f->title);
	fprintf(out,
	        "\n# data: %s.dat (one block per panel and series); re-render with\n"
	        "# gnuplot %s.gp in this directory.  Writes %s.png and %s.svg.\n",
	        f->basename, f->basename, f->basename, f->basename);
	gp_outputs(out, f);
	for (size_t p = 0; p < f->npanels; p++) {
		fprintf(out, "    # panel %zu\n", p + 1);
		gp_panel_setup(out, &f->panels[p]);
		gp_panel_plot(out, f->basename, &f->panels[p], &idx);
	}
	fputs("    unset multiplot\n    set output\n}\n", out);
	return kmb_file_commit(&kf);
}

static bool bad_basename(const char *b)
{
	return b == NULL || b[0] == '\0' || strchr(b, '/') || strchr(b, '\'') || strchr(b, '\n');
}

int kmb_fig_write(const char *dir, const struct kmb_fig *f, char *err, size_t errlen)
{
	char dat[PATH_MAX], gp[PATH_MAX];
	int r;

	if (errlen)
		err[0] = '\0';
	if (bad_basename(f->basename) || f->rows == 0 || f->cols == 0)
		return -EINVAL;
	if ((size_t)snprintf(dat, sizeof(dat), "%s/%s.dat", dir, f->basename) >= sizeof(dat) ||
	    (size_t)snprintf(gp, sizeof(gp), "%s/%s.gp", dir, f->basename) >= sizeof(gp))
		return -ENAMETOOLONG;
	if ((r = write_fig_dat(dat, f)) != 0 || (r = write_fig_gp(gp, f)) != 0) {
		if (errlen)
			snprintf(err, errlen, "writing %s: %s", f->basename, strerror(-r));
		return r;
	}
	return kmb_plot_render(gp, err, errlen);
}

/* ---- the picture of physical memory ------------------------------------------------------ */

struct frame_style {
	const char *label, *color, *key;
};

/*
 * Free memory in greys, lighter for larger free buddy blocks: eleven steps of about 13
 * levels of 255 from #6e6e6e (order 0) to #ececec (order 10 and above), so that each order
 * differs from the next; free pages of a page source without orders (vmem) in pale yellow.
 * Held memory in hues.  Every kind of enum kmb_frame_kind must have its line: a kind
 * appended to the enum without one is not "declared" (kmb_frame_kind_declared) and fails
 * test_report's frame_kinds_have_labels_keys_and_colours, and is drawn in the unknown
 * kind's magenta, never silently black.
 */
static const struct frame_style frame_styles[KMB_FRAME_NKINDS] = {
        [KMB_FRAME_UNKNOWN] = {"unknown", "#ff00ff", "unknown"},
        [KMB_FRAME_FREE] = {"free", "#fff7bc", "free"},
        [KMB_FRAME_FREE_ORDER0 + 0] = {"free, order 0", "#6e6e6e", "free_o0"},
        [KMB_FRAME_FREE_ORDER0 + 1] = {"free, order 1", "#7b7b7b", "free_o1"},
        [KMB_FRAME_FREE_ORDER0 + 2] = {"free, order 2", "#888888", "free_o2"},
        [KMB_FRAME_FREE_ORDER0 + 3] = {"free, order 3", "#959595", "free_o3"},
        [KMB_FRAME_FREE_ORDER0 + 4] = {"free, order 4", "#a2a2a2", "free_o4"},
        [KMB_FRAME_FREE_ORDER0 + 5] = {"free, order 5", "#afafaf", "free_o5"},
        [KMB_FRAME_FREE_ORDER0 + 6] = {"free, order 6", "#bcbcbc", "free_o6"},
        [KMB_FRAME_FREE_ORDER0 + 7] = {"free, order 7", "#c9c9c9", "free_o7"},
        [KMB_FRAME_FREE_ORDER0 + 8] = {"free, order 8", "#d6d6d6", "free_o8"},
        [KMB_FRAME_FREE_ORDER0 + 9] = {"free, order 9", "#e1e1e1", "free_o9"},
        [KMB_FRAME_FREE_ORDER0 + 10] = {"free, order 10+", "#ececec", "free_o10"},
        [KMB_FRAME_DATA] = {"data (other)", "#252525", "data"},
        [KMB_FRAME_META] = {"metadata", "#d62728", "meta"},
        [KMB_FRAME_SLAB_FULL] = {"slab, full", "#08519c", "slab_full"},
        [KMB_FRAME_SLAB_PARTIAL] = {"slab, partial", "#4292c6", "slab_partial"},
        [KMB_FRAME_SLAB_EMPTY] = {"slab, empty (cached)", "#9ecae1", "slab_empty"},
        [KMB_FRAME_BUCKET] = {"bucket page", "#238b45", "bucket"},
        [KMB_FRAME_BUCKET_EMPTY] = {"bucket page, all free", "#a1d99b", "bucket_empty"},
        [KMB_FRAME_VMEM_SPAN] = {"vmem span", "#6a51a3", "vmem_span"},
        [KMB_FRAME_HEAP] = {"sub-page heap", "#fd8d3c", "heap"},
        [KMB_FRAME_LARGE] = {"large allocation", "#8c510a", "large"},
        [KMB_FRAME_SLAB_CPU] = {"slab, a CPU's (frozen)", "#17becf", "slab_cpu"},
        [KMB_FRAME_SHEAF] = {"sheaves (a CPU's, a barn's)", "#bcbd22", "sheaf"},
};

bool kmb_frame_kind_declared(unsigned kind)
{
	return kind < KMB_FRAME_NKINDS && frame_styles[kind].label != NULL;
}

static const struct frame_style *frame_style(unsigned kind)
{
	return &frame_styles[kmb_frame_kind_declared(kind) ? kind : KMB_FRAME_UNKNOWN];
}

const char *kmb_frame_kind_label(unsigned kind)
{
	return frame_style(kind)->label;
}

const char *kmb_frame_kind_key(unsigned kind)
{
	return frame_style(kind)->key;
}

const char *kmb_frame_kind_color(unsigned kind)
{
	return frame_style(kind)->color;
}

/* A step palette: kind k is exactly colour k over [k - 1/2, k + 1/2). */
static void frames_palette(FILE *out)
{
	fprintf(out, "set palette maxcolors %d\nset cbrange [-0.5:%d.5]\nset palette defined (",
	        KMB_FRAME_NKINDS, KMB_FRAME_NKINDS - 1);
	for (int k = 0; k < KMB_FRAME_NKINDS; k++)
		fprintf(out, "%s%.1f '%s', %.1f '%s'", k ? ", " : "", k - 0.5,
		        kmb_frame_kind_color((unsigned)k), k + 0.5,
		        kmb_frame_kind_color((unsigned)k));
	fputs(")\nunset colorbox\n", out);
}

static void frames_panel(FILE *out, const struct kmb_frames_panel *p)
{
	fprintf(out, "    set xrange [-0.5:%u.5]\n    set yrange [-0.5:%u.5]\n", p->width - 1,
	        p->height - 1);
	gp_set_text(out, "title", p->title);
	fputs("    plot ", out);
	kmb__gp_quoted(out, p->file);
	fprintf(out, " binary array=(%u,%u) format='%%uchar' flipy with image notitle\n", p->width,
	        p->height);
}

static void frames_key(FILE *out, const bool *present)
{
	const char *sep = "    plot ";

	fputs("    unset title\n    set key center center font ',8' maxcols 2 samplen 1.5 spacing "
	      "1.1\n"
	      "    set xrange [0:1]\n    set yrange [0:1]\n",
	      out);
	for (int k = 0; k < KMB_FRAME_NKINDS; k++) {
		if (!present[k])
			continue;
		fprintf(out,
		        "%sNaN with boxes fs solid 1 border lc rgb '#606060' fc rgb '%s' title ",
		        sep, kmb_frame_kind_color((unsigned)k));
		kmb__gp_quoted(out, kmb_frame_kind_label((unsigned)k));
		sep = ", \\\n         ";
	}
	fputs(sep[4] == 'p' ? "    plot NaN notitle\n" : "\n", out);
}

static int write_frames_gp(const char *path, const char *base, const char *title,
                           const struct kmb_frames_panel *p, size_t n, const bool *present)
{
	unsigned cols = n + 1 <= 4 ? (unsigned)n + 1 : 4,
	         rows = (unsigned)(n + 1 + cols - 1) / cols;
	struct kmb_fig f = {base, title, rows, cols, 330 * cols, 330 * rows + 40, NULL, 0};
	struct kmb_file kf;
	FILE *out = kmb_file_create(path, &kf);

	if (out == NULL)
		return -errno;
	fputs("# kmbench: physical memory at peak, one pixel per page frame (frame 0 top left).\n"
	      "# Each .bin holds one byte per frame: enum kmb_frame_kind (kmbench/backend.h),\n"
	      "# coloured by the palette below.  Re-render: gnuplot ",
	      out);
	fprintf(out, "%s.gp (in this directory).\n", base);
	frames_palette(out);
	gp_outputs(out, &f);
	fputs("    unset border\n    unset tics\n    unset key\n    set size ratio -1\n", out);
	for (size_t i = 0; i < n; i++)
		frames_panel(out, &p[i]);
	fputs("    set size noratio\n", out);
	frames_key(out, present);
	fputs("    unset multiplot\n    set output\n}\n", out);
	return kmb_file_commit(&kf);
}

int kmb_plot_frames(const char *dir, const char *basename, const char *title,
                    const struct kmb_frames_panel *panels, size_t n, const bool *present, char *err,
                    size_t errlen)
{
	char gp[PATH_MAX];
	int r;

	if (errlen)
		err[0] = '\0';
	if (bad_basename(basename) || n == 0)
		return -EINVAL;
	if ((size_t)snprintf(gp, sizeof(gp), "%s/%s.gp", dir, basename) >= sizeof(gp))
		return -ENAMETOOLONG;
	if ((r = write_frames_gp(gp, basename, title, panels, n, present)) != 0) {
		if (errlen)
			snprintf(err, errlen, "writing %s.gp: %s", basename, strerror(-r));
		return r;
	}
	return kmb_plot_render(gp, err, errlen);
}
