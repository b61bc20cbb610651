/*
 * results/report.h - the report as a list of blocks (headings, paragraphs, list items,
 * tables, images, code), built by report.c from a results directory and rendered by
 * report_md.c and report_html.c.  Private to results/.
 */
#ifndef KMB_RESULTS_REPORT_H
#define KMB_RESULTS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum kmb_rblock_kind {
	KMB_RB_HEADING, /* level 1..3 */
	KMB_RB_PARA,
	KMB_RB_ITEM, /* a bullet; consecutive items form one list */
	KMB_RB_TABLE,
	KMB_RB_IMAGE, /* file relative to the results directory, text = alt */
	KMB_RB_CODE,  /* preformatted */
};

struct kmb_rtable {
	size_t ncols, ncells, cap;
	char **cell; /* row-major, the first ncols are the header */
	char *align; /* 'l' or 'r' per column */
};

struct kmb_rblock {
	int kind, level;
	char *text, *file;
	struct kmb_rtable *table;
};

struct kmb_rdoc {
	struct kmb_rblock *b;
	size_t n, cap;
	bool nomem;
	char title[256];
};

void kmb_rdoc_heading(struct kmb_rdoc *d, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void kmb_rdoc_para(struct kmb_rdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmb_rdoc_item(struct kmb_rdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmb_rdoc_code(struct kmb_rdoc *d, const char *text);
void kmb_rdoc_image(struct kmb_rdoc *d, const char *file, const char *alt);
/* A table; headers separated by '|', align one 'l' or 'r' per column. */
struct kmb_rtable *kmb_rdoc_table(struct kmb_rdoc *d, const char *headers, const char *align);
void kmb_rtable_cell(struct kmb_rtable *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
size_t kmb_rtable_rows(const struct kmb_rtable *t); /* body rows */
void kmb_rdoc_free(struct kmb_rdoc *d);

/* Renderers: 0 or -EIO.  The HTML embeds each image (dir/file) as a data: URI. */
int kmb_report_md(const struct kmb_rdoc *d, FILE *out);
int kmb_report_html(const struct kmb_rdoc *d, const char *dir, FILE *out);

#endif /* KMB_RESULTS_REPORT_H */
