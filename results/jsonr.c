/*
 * results/jsonr.c - a small JSON reader (RFC 8259) for the files kmbench reads back:
 * run.json and replay JSON of a results directory, google-benchmark's --benchmark_out.
 *
 * Recursive descent into a tree of struct kmb_jv; containers grow by doubling.  Nesting is
 * limited to 256 levels, so hostile input cannot exhaust the stack; every read checks the
 * end of the text, so a truncated document is an error with its line, never a read past
 * the end.  Strings are decoded (\uXXXX and surrogate pairs to UTF-8; a lone surrogate
 * becomes U+FFFD).  Numbers are read with strtod after checking the JSON grammar, so
 * "0x10", "1." or "+1" are errors.  Duplicate keys are kept; kmb_jv_get() finds the first.
 */
#include "results/results.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JV_MAX_DEPTH 256

struct jp {
	const char *s, *end;
	unsigned depth;
	char *err;
	size_t errlen;
	int rc;
};

/* The first error wins; kmb_jv_parse() adds its line. */
static int jp_fail(struct jp *p, const char *what)
{
	if (p->rc)
		return p->rc;
	p->rc = -EINVAL;
	if (p->errlen)
		snprintf(p->err, p->errlen, "%s", what);
	return p->rc;
}

static void skip_ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int parse_value(struct jp *p, struct kmb_jv *v);

static int put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(struct jp *p, unsigned *out)
{
	unsigned v = 0;

	if (p->end - p->s < 4)
		return jp_fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)*p->s++;

		if (!isxdigit(c))
			return jp_fail(p, "bad \\u escape");
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	*out = v;
	return 0;
}

/* After the 'u' of \uXXXX: one code point, a surrogate pair joined. */
static int unicode_escape(struct jp *p, unsigned *cp)
{
	unsigned lo;

	if (hex4(p, cp) != 0)
		return p->rc;
	if (*cp < 0xd800 || *cp > 0xdfff)
		return 0;
	if (*cp <= 0xdbff && p->end - p->s >= 6 && p->s[0] == '\\' && p->s[1] == 'u') {
		const char *save = p->s;

		p->s += 2;
		if (hex4(p, &lo) != 0)
			return p->rc;
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
			return 0;
		}
		p->s = save;
	}
	*cp = 0xfffd;
	return 0;
}

static int escape(struct jp *p, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	unsigned cp;

	if (p->s >= p->end)
		return jp_fail(p, "truncated string");
	k = strchr(from, *p->s);
	if (k != NULL && *p->s != '\0') {
		o[(*n)++] = to[k - from];
		p->s++;
		return 0;
	}
	if (*p->s++ != 'u')
		return jp_fail(p, "bad escape in a string");
	if (unicode_escape(p, &cp) != 0)
		return p->rc;
	*n += (size_t)put_utf8(o + *n, cp);
	return 0;
}

static int parse_string(struct jp *p, char **out)
{
	const char *q = ++p->s; /* after '"' */
	char *o;
	size_t n = 0;

	while (q < p->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= p->end)
		return jp_fail(p, "unterminated string");
	if ((o = malloc((size_t)(q - p->s) * 2 + 1)) == NULL)
		return jp_fail(p, "out of memory");
	while (p->s < p->end && *p->s != '"' && p->rc == 0) {
		if ((unsigned char)*p->s < 0x20) {
			free(o);
			return jp_fail(p, "control character in a string");
		}
		if (*p->s == '\\') {
			p->s++;
			escape(p, o, &n);
		} else {
			o[n++] = *p->s++;
		}
	}
	if (p->rc) {
		free(o);
		return p->rc;
	}
	p->s++;
	o[n] = '\0';
	*out = o;
	return 0;
}

static int parse_number(struct jp *p, struct kmb_jv *v)
{
	const char *q = p->s;
	char buf[64];

	if (q < p->end && *q == '-')
		q++;
	if (q >= p->end || !isdigit((unsigned char)*q))
		return jp_fail(p, "bad number");
	if (*q == '0')
		q++;
	else
		while (q < p->end && isdigit((unsigned char)*q))
			q++;
	if (q < p->end && *q == '.') {
		if (++q >= p->end || !isdigit((unsigned char)*q))
			return jp_fail(p, "bad number");
		while (q < p->end && isdigit((unsigned char)*q))
			q++;
	}
	if (q < p->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < p->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= p->end || !isdigit((unsigned char)*q))
			return jp_fail(p, "bad number");
		while (q < p->end && isdigit((unsigned char)*q))
			q++;
	}
	if ((size_t)(q - p->s) >= sizeof(buf))
		return jp_fail(p, "number too long");
	memcpy(buf, p->s, (size_t)(q - p->s));
	buf[q - p->s] = '\0';
	v->type = KMB_JV_NUM;
	v->num = strtod(buf, NULL);
	p->s = q;
	return 0;
}

static int add_kid(struct jp *p, struct kmb_jv *v, size_t *cap, struct kmb_jv **kid)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct kmb_jv *nk = realloc(v->kid, nc * sizeof(*nk));

		if (nk == NULL)
			return jp_fail(p, "out of memory");
		v->kid = nk;
		*cap = nc;
	}
	*kid = &v->kid[v->n++];
	memset(*kid, 0, sizeof(**kid));
	return 0;
}

/* An array or an object, from its opening bracket. */
static int parse_container(struct jp *p, struct kmb_jv *v, bool obj)
{
	char close = obj ? '}' : ']';
	size_t cap = 0;

	v->type = obj ? KMB_JV_OBJ : KMB_JV_ARR;
	if (++p->depth > JV_MAX_DEPTH)
		return jp_fail(p, "nested too deeply");
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		p->depth--;
		return 0;
	}
	for (;;) {
		struct kmb_jv *kid = NULL;

		skip_ws(p);
		if (add_kid(p, v, &cap, &kid) != 0)
			return p->rc;
		if (obj) {
			if (p->s >= p->end || *p->s != '"')
				return jp_fail(p, "expected a key");
			if (parse_string(p, &kid->key) != 0)
				return p->rc;
			skip_ws(p);
			if (p->s >= p->end || *p->s++ != ':')
				return jp_fail(p, "expected ':'");
		}
		if (parse_value(p, kid) != 0)
			return p->rc;
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			p->depth--;
			return 0;
		}
		return jp_fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_word(struct jp *p, struct kmb_jv *v, const char *w, int type, bool b)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
		return jp_fail(p, "unexpected character");
	p->s += n;
	v->type = type;
	v->b = b;
	return 0;
}

static int parse_value(struct jp *p, struct kmb_jv *v)
{
	skip_ws(p);
	if (p->s >= p->end)
		return jp_fail(p, "unexpected end of input");
	switch (*p->s) {
	case '{':
		return parse_container(p, v, true);
	case '[':
		return parse_container(p, v, false);
	case '"':
		v->type = KMB_JV_STR;
		return parse_string(p, &v->str);
	case 't':
		return parse_word(p, v, "true", KMB_JV_BOOL, true);
	case 'f':
		return parse_word(p, v, "false", KMB_JV_BOOL, false);
	case 'n':
		return parse_word(p, v, "null", KMB_JV_NULL, false);
	default:
		return parse_number(p, v);
	}
}

static unsigned line_of(const char *text, const char *at)
{
	unsigned line = 1;

	for (const char *q = text; q < at; q++)
		line += *q == '\n';
	return line;
}

int kmb_jv_parse(const char *text, size_t len, struct kmb_jv *out, char *err, size_t errlen)
{
	struct jp p = {text, text + len, 0, err, errlen, 0};

	memset(out, 0, sizeof(*out));
	if (parse_value(&p, out) == 0) {
		skip_ws(&p);
		if (p.s != p.end)
			jp_fail(&p, "text after the value");
	}
	if (p.rc != 0) {
		char what[160];

		snprintf(what, sizeof(what), "%s", errlen ? err : "");
		if (errlen)
			snprintf(err, errlen, "line %u: %s", line_of(text, p.s), what);
		kmb_jv_free(out);
	}
	return p.rc;
}

int kmb_jv_load(const char *path, struct kmb_jv *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL, msg[200];
	size_t n = 0, cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	do {
		char *nb = n == cap ? realloc(buf, (cap = cap ? 2 * cap : 65536)) : buf;

		if (nb == NULL) {
			free(buf);
			fclose(f);
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
	} while (n == cap && !ferror(f));
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc == 0 && (rc = kmb_jv_parse(buf, n, out, msg, sizeof(msg))) != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	else if (rc != 0)
		snprintf(err, errlen, "%s: read error", path);
	free(buf);
	return rc;
}

void kmb_jv_free(struct kmb_jv *v)
{
	for (size_t i = 0; i < v->n; i++)
		kmb_jv_free(&v->kid[i]);
	free(v->kid);
	free(v->str);
	free(v->key);
	memset(v, 0, sizeof(*v));
}

const struct kmb_jv *kmb_jv_get(const struct kmb_jv *obj, const char *key)
{
	if (obj == NULL || obj->type != KMB_JV_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->kid[i].key, key) == 0)
			return &obj->kid[i];
	return NULL;
}

double kmb_jv_num(const struct kmb_jv *obj, const char *key, double dflt)
{
	const struct kmb_jv *v = kmb_jv_get(obj, key);

	return v && v->type == KMB_JV_NUM ? v->num : dflt;
}

const char *kmb_jv_str(const struct kmb_jv *obj, const char *key, const char *dflt)
{
	const struct kmb_jv *v = kmb_jv_get(obj, key);

	return v && v->type == KMB_JV_STR ? v->str : dflt;
}

bool kmb_jv_bool(const struct kmb_jv *obj, const char *key, bool dflt)
{
	const struct kmb_jv *v = kmb_jv_get(obj, key);

	return v && v->type == KMB_JV_BOOL ? v->b : dflt;
}

void kmb_json_jv(struct kmb_json *j, const char *key, const struct kmb_jv *v)
{
	switch (v->type) {
	case KMB_JV_NULL:
		kmb_json_null(j, key);
		break;
	case KMB_JV_BOOL:
		kmb_json_bool(j, key, v->b);
		break;
	case KMB_JV_NUM: /* whole numbers as integers, as they were written */
		if (v->num == (double)(int64_t)v->num && v->num > -9.0e15 && v->num < 9.0e15)
			kmb_json_i64(j, key, (int64_t)v->num);
		else
			kmb_json_dbl(j, key, v->num);
		break;
	case KMB_JV_STR:
		kmb_json_str(j, key, v->str);
		break;
	default: {
		bool obj = v->type == KMB_JV_OBJ;

		if (obj)
			kmb_json_obj_begin(j, key);
		else
			kmb_json_arr_begin(j, key);
		for (size_t i = 0; i < v->n; i++)
			kmb_json_jv(j, obj ? v->kid[i].key : NULL, &v->kid[i]);
		if (obj)
			kmb_json_obj_end(j);
		else
			kmb_json_arr_end(j);
	}
	}
}
