/*
 * results/report_md.c - the report's blocks (report.h) and their Markdown rendering.
 *
 * Markdown as GitHub renders it: ATX headings, paragraphs, "- " lists, pipe tables with
 * alignment rows, images by relative path (the PNGs sit next to report.md), fenced code.
 * Text is escaped where Markdown would read it as markup: '|' in table cells, and '*',
 * '_', '`', '[', ']', '<' and '\\' everywhere (call sites such as "__kmalloc+0x42" would
 * otherwise turn bold).
 */
#include "results/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- building ----------------------------------------------------------------------------- */

static struct kmb_rblock *add(struct kmb_rdoc *d, int kind)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct kmb_rblock *nb = realloc(d->b, cap * sizeof(*nb));

		if (nb == NULL) {
			d->nomem = true;
			return NULL;
		}
		d->b = nb;
		d->cap = cap;
	}
	memset(&d->b[d->n], 0, sizeof(d->b[0]));
	d->b[d->n].kind = kind;
	return &d->b[d->n++];
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static void add_text(struct kmb_rdoc *d, int kind, int level, const char *fmt, va_list ap)
{
	struct kmb_rblock *b = add(d, kind);

	if (b == NULL)
		return;
	b->level = level;
	if ((b->text = vfmt(fmt, ap)) == NULL) {
		d->n--;
		d->nomem = true;
	}
}

void kmb_rdoc_heading(struct kmb_rdoc *d, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_text(d, KMB_RB_HEADING, level, fmt, ap);
	va_end(ap);
}

void kmb_rdoc_para(struct kmb_rdoc *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_text(d, KMB_RB_PARA, 0, fmt, ap);
	va_end(ap);
}

void kmb_rdoc_item(struct kmb_rdoc *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_text(d, KMB_RB_ITEM, 0, fmt, ap);
	va_end(ap);
}

void kmb_rdoc_code(struct kmb_rdoc *d, const char *text)
{
	struct kmb_rblock *b = add(d, KMB_RB_CODE);

	if (b && (b->text = strdup(text)) == NULL) {
		d->n--;
		d->nomem = true;
	}
}

void kmb_rdoc_image(struct kmb_rdoc *d, const char *file, const char *alt)
{
	struct kmb_rblock *b = add(d, KMB_RB_IMAGE);

	if (b == NULL)
		return;
	b->file = strdup(file);
	b->text = strdup(alt);
	if (b->file == NULL || b->text == NULL) {
		free(b->file);
		free(b->text);
		d->n--;
		d->nomem = true;
	}
}

static void table_push(struct kmb_rtable *t, char *s)
{
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **nc = realloc(t->cell, cap * sizeof(*nc));

		if (nc == NULL) {
			free(s);
			return;
		}
		t->cell = nc;
		t->cap = cap;
	}
	t->cell[t->ncells++] = s ? s : strdup("");
}

struct kmb_rtable *kmb_rdoc_table(struct kmb_rdoc *d, const char *headers, const char *align)
{
	struct kmb_rtable *t = calloc(1, sizeof(*t));
	struct kmb_rblock *b = t ? add(d, KMB_RB_TABLE) : NULL;

	if (b == NULL) {
		free(t);
		d->nomem = true;
		return NULL;
	}
	b->table = t;
	t->align = strdup(align);
	for (const char *h = headers, *bar; h; h = bar ? bar + 1 : NULL) {
		bar = strchr(h, '|');
		table_push(t, strndup(h, bar ? (size_t)(bar - h) : strlen(h)));
		t->ncols++;
	}
	return t;
}

void kmb_rtable_cell(struct kmb_rtable *t, const char *fmt, ...)
{
	va_list ap;

	if (t == NULL)
		return;
	va_start(ap, fmt);
	table_push(t, vfmt(fmt, ap));
	va_end(ap);
}

size_t kmb_rtable_rows(const struct kmb_rtable *t)
{
	return t && t->ncols ? t->ncells / t->ncols - 1 : 0;
}

void kmb_rdoc_free(struct kmb_rdoc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct kmb_rtable *t = d->b[i].table;

		free(d->b[i].text);
		free(d->b[i].file);
		for (size_t k = 0; t && k < t->ncells; k++)
			free(t->cell[k]);
		if (t) {
			free(t->cell);
			free(t->align);
			free(t);
		}
	}
	free(d->b);
	memset(d, 0, sizeof(*d));
}

/* ---- Markdown ------------------------------------------------------------------------------ */

static void md_text(FILE *out, const char *s, bool cell)
{
	for (; *s; s++) {
		if (strchr("*_`[]<\\", *s) || (cell && *s == '|'))
			fputc('\\', out);
		fputc(*s == '\n' && cell ? ' ' : *s, out);
	}
}

static void md_table(FILE *out, const struct kmb_rtable *t)
{
	size_t rows = kmb_rtable_rows(t) + 1;

	for (size_t r = 0; r < rows; r++) {
		fputc('|', out);
		for (size_t c = 0; c < t->ncols; c++) {
			fputc(' ', out);
			md_text(out, t->cell[r * t->ncols + c], true);
			fputs(" |", out);
		}
		fputc('\n', out);
		if (r > 0)
			continue;
		fputc('|', out);
		for (size_t c = 0; c < t->ncols; c++)
			fputs(t->align[c] == 'r' ? "---:|" : "---|", out);
		fputc('\n', out);
	}
}

int kmb_report_md(const struct kmb_rdoc *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct kmb_rblock *b = &d->b[i];
		bool list_ends = b->kind == KMB_RB_ITEM &&
		                 (i + 1 == d->n || d->b[i + 1].kind != KMB_RB_ITEM);

		switch (b->kind) {
		case KMB_RB_HEADING:
			fprintf(out, "%.*s ",
			        b->level < 1   ? 1
			        : b->level > 6 ? 6
			                       : b->level,
			        "######");
			md_text(out, b->text, false);
			fputs("\n\n", out);
			break;
		case KMB_RB_PARA:
			md_text(out, b->text, false);
			fputs("\n\n", out);
			break;
		case KMB_RB_ITEM:
			fputs("- ", out);
			md_text(out, b->text, false);
			fputs(list_ends ? "\n\n" : "\n", out);
			break;
		case KMB_RB_TABLE:
			md_table(out, b->table);
			fputc('\n', out);
			break;
		case KMB_RB_IMAGE:
			fputs("![", out);
			md_text(out, b->text, false);
			fprintf(out, "](%s)\n\n", b->file);
			break;
		default:
			fprintf(out, "```\n%s%s```\n\n", b->text,
			        b->text[0] && b->text[strlen(b->text) - 1] == '\n' ? "" : "\n");
			break;
		}
	}
	return ferror(out) ? -EIO : 0;
}
