/*
 * results/json.c - a streaming JSON writer (RFC 8259), no dependencies.
 *
 * State is a stack of up to 64 containers kept as two bit masks (object or array, has
 * a member yet), which is all that commas and indentation need: a value in a container
 * is preceded by ",\n" or "\n" and 2 * depth spaces; a non-empty container closes on
 * its own line.  Misuse sets a sticky -EINVAL and stops output (a half-written document
 * is better refused than guessed at); stream errors are left to ferror() at the end.
 *
 * Strings are validated as UTF-8 (Unicode 15, table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF); each byte that does not start a well-formed sequence becomes
 * U+FFFD, written as the escape \ufffd, as WHATWG decoders do.  \u00XX would instead
 * claim the Latin-1 character XX, which was not in the input either.
 *
 * Doubles use the shortest of %.15g / %.17g that reads back to the same value (.17 is
 * always enough for binary64), with ".0" appended to integral values so readers keep
 * them as floats.
 */
#include "results/results.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INDENT 2

void kmb_json_begin(struct kmb_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static bool json_fail(struct kmb_json *j, int err)
{
	if (j->err == 0)
		j->err = err;
	return false;
}

static void json_indent(struct kmb_json *j, unsigned depth)
{
	for (unsigned i = 0; i < depth * JSON_INDENT; i++)
		fputc(' ', j->out);
}

/* ---- strings ------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s, 0 if s[0] starts none.  Stops reading
 * at the first byte that breaks the sequence, so never passes the terminating NUL. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4) /* continuation, overlong 2-byte lead, > U+10FFFF */
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : lo; /* overlong 3- and 4-byte forms */
	hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : hi; /* surrogates, > U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void json_put_ascii(FILE *out, unsigned char c)
{
	static const char short_esc[] = "b\bf\fn\nr\rt\t\"\"\\\\";

	for (const char *e = short_esc; *e; e += 2) {
		if (c == (unsigned char)e[1]) {
			fputc('\\', out);
			fputc(e[0], out);
			return;
		}
	}
	if (c < 0x20)
		fprintf(out, "\\u%04x", c);
	else
		fputc(c, out);
}

static void json_put_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0)
			fputs("\\ufffd", out);
		else if (n == 1)
			json_put_ascii(out, *s);
		else
			fwrite(s, 1, n, out);
		s += n ? n : 1;
	}
	fputc('"', out);
}

static void json_put_double(FILE *out, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		fputs("null", out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	for (char *p = buf; *p; p++)
		if (*p == ',') /* a decimal comma from setlocale(LC_NUMERIC) */
			*p = '.';
	if (strpbrk(buf, ".e") == NULL)
		strcat(buf, ".0");
	fputs(buf, out);
}

/* ---- structure ----------------------------------------------------------------------- */

/* Separator, indent and key before a value; false (nothing written) on misuse. */
static bool json_value_start(struct kmb_json *j, const char *key)
{
	uint64_t bit;

	if (j->err)
		return false;
	if (j->depth == 0) {
		if (key != NULL || j->wrote_top)
			return json_fail(j, -EINVAL);
		j->wrote_top = true;
		return true;
	}
	bit = (uint64_t)1 << (j->depth - 1);
	if (((j->is_obj & bit) != 0) != (key != NULL))
		return json_fail(j, -EINVAL);
	fputs(j->nonempty & bit ? ",\n" : "\n", j->out);
	j->nonempty |= bit;
	json_indent(j, j->depth);
	if (key != NULL) {
		json_put_string(j->out, key);
		fputs(": ", j->out);
	}
	return true;
}

static void json_open(struct kmb_json *j, const char *key, bool obj)
{
	uint64_t bit;

	if (j->depth >= KMB_JSON_MAX_DEPTH) {
		json_fail(j, -EINVAL);
		return;
	}
	if (!json_value_start(j, key))
		return;
	bit = (uint64_t)1 << j->depth;
	j->is_obj = obj ? j->is_obj | bit : j->is_obj & ~bit;
	j->nonempty &= ~bit;
	j->depth++;
	fputc(obj ? '{' : '[', j->out);
}

static void json_close(struct kmb_json *j, bool obj)
{
	uint64_t bit;

	if (j->err)
		return;
	if (j->depth == 0) {
		json_fail(j, -EINVAL);
		return;
	}
	bit = (uint64_t)1 << (j->depth - 1);
	if (((j->is_obj & bit) != 0) != obj) {
		json_fail(j, -EINVAL);
		return;
	}
	j->depth--;
	if (j->nonempty & bit) {
		fputc('\n', j->out);
		json_indent(j, j->depth);
	}
	fputc(obj ? '}' : ']', j->out);
}

void kmb_json_obj_begin(struct kmb_json *j, const char *key)
{
	json_open(j, key, true);
}

void kmb_json_obj_end(struct kmb_json *j)
{
	json_close(j, true);
}

void kmb_json_arr_begin(struct kmb_json *j, const char *key)
{
	json_open(j, key, false);
}

void kmb_json_arr_end(struct kmb_json *j)
{
	json_close(j, false);
}

/* ---- scalars ------------------------------------------------------------------------- */

void kmb_json_str(struct kmb_json *j, const char *key, const char *s)
{
	if (!json_value_start(j, key))
		return;
	if (s == NULL)
		fputs("null", j->out);
	else
		json_put_string(j->out, s);
}

void kmb_json_u64(struct kmb_json *j, const char *key, uint64_t v)
{
	if (json_value_start(j, key))
		fprintf(j->out, "%" PRIu64, v);
}

void kmb_json_i64(struct kmb_json *j, const char *key, int64_t v)
{
	if (json_value_start(j, key))
		fprintf(j->out, "%" PRId64, v);
}

void kmb_json_dbl(struct kmb_json *j, const char *key, double v)
{
	if (json_value_start(j, key))
		json_put_double(j->out, v);
}

void kmb_json_bool(struct kmb_json *j, const char *key, bool v)
{
	if (json_value_start(j, key))
		fputs(v ? "true" : "false", j->out);
}

void kmb_json_null(struct kmb_json *j, const char *key)
{
	if (json_value_start(j, key))
		fputs("null", j->out);
}

void kmb_json_hist(struct kmb_json *j, const char *key, const struct kmb_hist *h)
{
	kmb_json_obj_begin(j, key);
	kmb_json_u64(j, "count", h->count);
	kmb_json_dbl(j, "mean", kmb_hist_mean(h));
	kmb_json_u64(j, "p50", kmb_hist_percentile(h, 50.0));
	kmb_json_u64(j, "p90", kmb_hist_percentile(h, 90.0));
	kmb_json_u64(j, "p99", kmb_hist_percentile(h, 99.0));
	kmb_json_u64(j, "p999", kmb_hist_percentile(h, 99.9));
	kmb_json_u64(j, "max", h->max);
	kmb_json_u64(j, "min", h->count ? h->min : 0);
	kmb_json_obj_end(j);
}

int kmb_json_end(struct kmb_json *j)
{
	if (j->err == 0 && (j->depth != 0 || !j->wrote_top))
		j->err = -EINVAL;
	if (j->wrote_top)
		fputc('\n', j->out);
	if (fflush(j->out) != 0 || ferror(j->out))
		return -EIO;
	return j->err;
}
