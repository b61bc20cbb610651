/*
 * results/csv.c - reading back the CSV files kmbench writes (summary.csv, sizeclass.csv,
 * frames.csv, repetitions.csv), for the report and `kmbench compare`.
 *
 * The dialect is the one kmbench writes: a header row, fields separated by commas, a field
 * holding a comma or a double quote quoted as RFC 4180 says ("a, ""b""" is a, "b"), so that
 * a message keeps its commas; control characters (newlines) are written as spaces.  The
 * file is read whole; fields are pointers into that buffer, cut (and unquoted) in place.  A
 * row shorter than the header is padded with empty fields, a longer one is cut to the
 * header's width.
 */
#include "results/results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, n = 0;
	char *buf = NULL;

	if (f == NULL)
		return -errno;
	for (;;) {
		char *nb = realloc(buf, cap + 1);

		if (nb == NULL) {
			free(buf);
			fclose(f);
			return -ENOMEM;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static size_t count_fields(const char *line)
{
	size_t n = 1;

	for (; *line; line++)
		n += *line == ',';
	return n;
}

/* Cut the buffer into lines (in place); returns the number of non-empty lines. */
static size_t cut_lines(char *buf, char ***lines)
{
	size_t n = 0, cap = 64;
	char **l = malloc(cap * sizeof(*l));

	for (char *p = buf, *nl; l != NULL && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (nl && nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0')
			continue;
		if (n == cap) {
			char **nlines = realloc(l, (cap *= 2) * sizeof(*l));

			if (nlines == NULL) {
				free(l);
				return (size_t)-1;
			}
			l = nlines;
		}
		l[n++] = p;
	}
	*lines = l;
	return l ? n : (size_t)-1;
}

/* A quoted field at p (p[0] == '"'), unquoted in place; returns where it ends (its comma or
 * the end of the line). */
static char *unquote(char *p)
{
	char *w = p, *r = p + 1;

	for (; *r; r++) {
		if (*r == '"' && r[1] == '"')
			r++;
		else if (*r == '"')
			break;
		*w++ = *r;
	}
	*w = '\0';
	if (*r == '"')
		r++;
	return *r ? strchr(r, ',') : NULL;
}

static void split_row(char *line, char **cells, size_t ncols)
{
	size_t i = 0;

	for (char *p = line; i < ncols; i++) {
		char *comma = p == NULL ? NULL : *p == '"' ? unquote(p) : strchr(p, ',');

		cells[i] = p ? p : "";
		if (comma)
			*comma = '\0';
		p = comma ? comma + 1 : NULL;
	}
}

int kmb_csv_load(const char *path, struct kmb_csv *c)
{
	char **lines;
	size_t len, n;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = read_all(path, &c->buf, &len)) != 0)
		return rc;
	n = cut_lines(c->buf, &lines);
	if (n == (size_t)-1 || n == 0) {
		free(c->buf);
		c->buf = NULL;
		return n ? -ENOMEM : -EINVAL;
	}
	c->ncols = count_fields(lines[0]);
	c->nrows = n;
	c->cell = calloc(n * c->ncols, sizeof(*c->cell));
	if (c->cell == NULL) {
		free(lines);
		kmb_csv_free(c);
		return -ENOMEM;
	}
	for (size_t r = 0; r < n; r++)
		split_row(lines[r], c->cell + r * c->ncols, c->ncols);
	free(lines);
	return 0;
}

void kmb_csv_free(struct kmb_csv *c)
{
	free(c->buf);
	free(c->cell);
	memset(c, 0, sizeof(*c));
}

int kmb_csv_col(const struct kmb_csv *c, const char *name)
{
	for (size_t i = 0; i < c->ncols && c->nrows; i++)
		if (strcmp(c->cell[i], name) == 0)
			return (int)i;
	return -1;
}

const char *kmb_csv_get(const struct kmb_csv *c, size_t r, const char *name)
{
	int col = kmb_csv_col(c, name);

	if (col < 0 || r >= c->nrows)
		return "";
	return c->cell[r * c->ncols + (size_t)col];
}

double kmb_csv_num(const struct kmb_csv *c, size_t r, const char *name)
{
	const char *s = kmb_csv_get(c, r, name);
	char *end;
	double v;

	if (*s == '\0')
		return NAN;
	v = strtod(s, &end);
	return *end == '\0' ? v : NAN;
}

void kmb_csv_field(FILE *out, const char *s)
{
	bool quote = strpbrk(s, ",\"") != NULL;

	if (quote)
		fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
	}
	if (quote)
		fputc('"', out);
}
