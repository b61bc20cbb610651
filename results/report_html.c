/*
 * results/report_html.c - the report as one self-contained HTML file: inline CSS, the
 * plots embedded as PNG data URIs (base64, RFC 4648), no script, no external resource, so
 * it opens in any browser and can be mailed or attached as it is.  A missing image (no
 * gnuplot when the run was made) is said in place of the picture.  Level-2 headings get
 * anchors and a table of contents at the top.
 */
#include "results/report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char css[] =
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;"
        "max-width:1240px;padding:1em 2em;color:#222;line-height:1.45}"
        "h1{border-bottom:2px solid #1f77b4;padding-bottom:.2em}"
        "h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.15em}"
        "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}"
        "th,td{border:1px solid #ccc;padding:.25em .6em}"
        "th{background:#f0f4f8;text-align:left}td.r{text-align:right;white-space:nowrap;"
        "font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}"
        "img{max-width:100%;border:1px solid #ddd;margin:.4em 0}"
        "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}"
        "li{margin:.2em 0}.missing{color:#a00;font-style:italic}"
        "nav{background:#f6f8fa;padding:.4em 1em;border:1px solid #e0e0e0}"
        "nav a{margin-right:1.2em}";

static void esc(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static void base64(FILE *out, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		             (i + 2 < n ? p[i + 2] : 0);

		fputc(t[v >> 18 & 63], out);
		fputc(t[v >> 12 & 63], out);
		fputc(i + 1 < n ? t[v >> 6 & 63] : '=', out);
		fputc(i + 2 < n ? t[v & 63] : '=', out);
	}
}

/* The file's bytes (malloc'd), or NULL. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len)) != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	*n = buf ? (size_t)len : 0;
	fclose(f);
	return buf;
}

static void image(FILE *out, const char *dir, const struct kmb_rblock *b)
{
	char path[PATH_MAX];
	unsigned char *png;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, b->file);
	if ((png = slurp(path, &n)) == NULL || n < 8 || memcmp(png, "\x89PNG", 4) != 0) {
		fputs("<p class=\"missing\">", out);
		esc(out, b->file);
		fputs(" was not rendered (gnuplot missing?): install gnuplot and run "
		      "<code>kmbench plot DIR</code>.</p>\n",
		      out);
		free(png);
		return;
	}
	fputs("<p><img alt=\"", out);
	esc(out, b->text);
	fputs("\" src=\"data:image/png;base64,", out);
	base64(out, png, n);
	fputs("\"></p>\n", out);
	free(png);
}

static void table(FILE *out, const struct kmb_rtable *t)
{
	size_t rows = kmb_rtable_rows(t) + 1;

	fputs("<table>\n", out);
	for (size_t r = 0; r < rows; r++) {
		fputs("<tr>", out);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cls = r > 0 && t->align[c] == 'r' ? " class=\"r\"" : "";

			fprintf(out, "<%s%s>", r ? "td" : "th", cls);
			esc(out, t->cell[r * t->ncols + c]);
			fprintf(out, "</%s>", r ? "td" : "th");
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void toc(FILE *out, const struct kmb_rdoc *d)
{
	fputs("<nav>", out);
	for (size_t i = 0; i < d->n; i++)
		if (d->b[i].kind == KMB_RB_HEADING && d->b[i].level == 2) {
			fprintf(out, "<a href=\"#s%zu\">", i);
			esc(out, d->b[i].text);
			fputs("</a>", out);
		}
	fputs("</nav>\n", out);
}

static void block(FILE *out, const struct kmb_rdoc *d, size_t i, const char *dir)
{
	const struct kmb_rblock *b = &d->b[i];
	bool first_item = i == 0 || d->b[i - 1].kind != KMB_RB_ITEM;
	bool last_item = i + 1 == d->n || d->b[i + 1].kind != KMB_RB_ITEM;
	int lv = b->level < 1 ? 1 : b->level > 6 ? 6 : b->level;

	switch (b->kind) {
	case KMB_RB_HEADING:
		fprintf(out, "<h%d id=\"s%zu\">", lv, i);
		esc(out, b->text);
		fprintf(out, "</h%d>\n", lv);
		if (lv == 1)
			toc(out, d);
		break;
	case KMB_RB_PARA:
		fputs("<p>", out);
		esc(out, b->text);
		fputs("</p>\n", out);
		break;
	case KMB_RB_ITEM:
		fputs(first_item ? "<ul>\n<li>" : "<li>", out);
		esc(out, b->text);
		fputs(last_item ? "</li>\n</ul>\n" : "</li>\n", out);
		break;
	case KMB_RB_TABLE:
		table(out, b->table);
		break;
	case KMB_RB_IMAGE:
		image(out, dir, b);
		break;
	default:
		fputs("<pre>", out);
		esc(out, b->text);
		fputs("</pre>\n", out);
		break;
	}
}

int kmb_report_html(const struct kmb_rdoc *d, const char *dir, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	esc(out, d->title);
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	for (size_t i = 0; i < d->n; i++)
		block(out, d, i, dir);
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}
