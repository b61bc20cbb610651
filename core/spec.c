/*
 * core/spec.c - the grammar of a backend spec and the values of its tunables.
 *
 * 1. Grammar.
 *
 *        spec    = part [ "@" part ]
 *        part    = NAME [ "(" [ setting { "," setting } ] ")" ]
 *        setting = KEY "=" INTEGER
 *
 *    The first part names a backend (or "plugin:PATH.so"), the second a page source:
 *    "slab(magsize=15)@vmem", "slab@buddy(pcp_high=64,pcp_batch=8)".  The '@' that
 *    separates them is the last one outside parentheses, so a plugin path may hold an '@'.
 *    INTEGER is decimal with an optional sign (strtol base 10, no suffix).
 *
 * 2. Values.  Each part's settings are checked against the table its owner declares
 *    (struct kmb_tunable, kmbench/backend.h 5.): an unknown key, a key set twice, a value
 *    that is no integer or lies outside [min, max] is refused with one line naming the
 *    spec and the key.  Keys not set take their default, so the output array always holds
 *    one value per declared tunable, in table order: what init reads as be->tun[i] and a
 *    page source's create() receives.
 *
 * 3. Names.  The spec string as written is the row key of every result; nothing here
 *    normalises it (the same settings in another order are another row, as two spellings
 *    of one design would be to a reader).
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The '@' that separates the parts: the last one outside parentheses (or NULL). */
static const char *split_at(const char *spec, size_t len)
{
	const char *at = NULL;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (spec[i] == '(')
			depth++;
		else if (spec[i] == ')')
			depth--;
		else if (spec[i] == '@' && depth == 0)
			at = spec + i;
	}
	return at;
}

/* NAME[(ARGS)] in s[0, len): the name and what the parentheses hold (args NULL: none). */
static int split_part(const char *spec, const char *s, size_t len, struct kmb__spec_part *p,
                      char *err, size_t errlen)
{
	const char *open;
	int depth = 0;

	p->name = s;
	p->len = len;
	p->args = NULL;
	p->alen = 0;
	if (len == 0 || s[len - 1] != ')') {
		if (memchr(s, '(', len) || memchr(s, ')', len))
			goto unbalanced;
		return 0;
	}
	for (open = s + len - 1; open >= s; open--) {
		depth += *open == ')' ? 1 : *open == '(' ? -1 : 0;
		if (depth == 0)
			break;
	}
	if (open < s || memchr(s, ')', (size_t)(open - s)))
		goto unbalanced;
	p->len = (size_t)(open - s);
	p->args = open + 1;
	p->alen = len - p->len - 2;
	if (memchr(p->args, '(', p->alen) || memchr(p->args, ')', p->alen))
		goto unbalanced;
	return 0;
unbalanced:
	snprintf(err, errlen,
	         "backend spec '%s': unbalanced or misplaced parentheses (NAME(KEY=VALUE,...))",
	         spec);
	return -EINVAL;
}

int kmb__spec_split(const char *spec, struct kmb__spec_part *be, struct kmb__spec_part *ps,
                    char *err, size_t errlen)
{
	size_t len = spec ? strlen(spec) : 0;
	const char *at = spec ? split_at(spec, len) : NULL;
	int rc;

	if (len == 0 || (at ? at == spec : false)) {
		snprintf(err, errlen, "empty backend spec%s%s%s", spec && *spec ? " '" : "",
		         spec && *spec ? spec : "", spec && *spec ? "'" : "");
		return -EINVAL;
	}
	rc = split_part(spec, spec, at ? (size_t)(at - spec) : len, be, err, errlen);
	if (rc != 0)
		return rc;
	memset(ps, 0, sizeof(*ps));
	if (at == NULL)
		return 0;
	if (at[1] == '\0') {
		snprintf(err, errlen, "backend spec '%s': no page source after '@'", spec);
		return -EINVAL;
	}
	return split_part(spec, at + 1, len - (size_t)(at + 1 - spec), ps, err, errlen);
}

static int find_key(const struct kmb_tunable *t, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == klen && strncmp(t[i].name, key, klen) == 0)
			return (int)i;
	return -1;
}

static void list_keys(const struct kmb_tunable *t, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", t[i].name);
}

/* One KEY=VALUE of s[0, len) into vals[]; set[] says which keys were given. */
static int parse_setting(const char *spec, const char *owner, const struct kmb_tunable *t, size_t n,
                         const char *s, size_t len, long *vals, bool *set, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	char num[32], keys[256], *end;
	int k = find_key(t, n, s, klen);
	long v;

	if (k < 0) {
		list_keys(t, n, keys, sizeof(keys));
		snprintf(err, errlen, "backend spec '%s': %s has no tunable '%.*s' (%s%s)", spec,
		         owner, (int)klen, s, n ? "tunables: " : "it has none", keys);
		return -EINVAL;
	}
	if (eq == NULL || len - klen - 1 == 0 || len - klen - 1 >= sizeof(num)) {
		snprintf(err, errlen, "backend spec '%s': %s: '%.*s' is no KEY=INTEGER", spec,
		         t[k].name, (int)len, s);
		return -EINVAL;
	}
	if (set[k]) {
		snprintf(err, errlen, "backend spec '%s': %s set twice", spec, t[k].name);
		return -EINVAL;
	}
	snprintf(num, sizeof(num), "%.*s", (int)(len - klen - 1), eq + 1);
	errno = 0;
	v = strtol(num, &end, 10);
	if (errno != 0 || *end != '\0' || end == num || num[0] == ' ') {
		snprintf(err, errlen, "backend spec '%s': %s: '%s' is not an integer", spec,
		         t[k].name, num);
		return -EINVAL;
	}
	if (v < t[k].min || v > t[k].max) {
		snprintf(err, errlen, "backend spec '%s': %s=%ld out of bounds %ld..%ld", spec,
		         t[k].name, v, t[k].min, t[k].max);
		return -ERANGE;
	}
	vals[k] = v;
	set[k] = true;
	return 0;
}

int kmb__tunables_parse(const char *spec, const char *owner, const struct kmb_tunable *t, size_t n,
                        const struct kmb__spec_part *p, long *vals, char *err, size_t errlen)
{
	bool set[KMB_MAX_TUNABLES] = {false};
	const char *s = p->args, *end;

	kmb_assert(n <= KMB_MAX_TUNABLES);
	for (size_t i = 0; i < n; i++)
		vals[i] = t[i].def;
	if (s == NULL) /* no parentheses (and no end to compute: NULL + 0 is undefined) */
		return 0;
	end = s + p->alen;
	if (p->alen == 0) {
		snprintf(err, errlen, "backend spec '%s': empty '()' after %s", spec, owner);
		return -EINVAL;
	}
	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
		int rc = parse_setting(spec, owner, t, n, s, len, vals, set, err, errlen);

		if (rc != 0)
			return rc;
		s += len + 1;
	}
	return 0;
}
