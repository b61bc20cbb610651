/*
 * bench/cli.c - helpers every subcommand shares: error lines, value parsing, defaults.
 *
 * Errors on the command line are one line on stderr, "kmbench CMD: reason", then a hint
 * "(kmbench CMD --help)", and exit status 2.  Runtime failures exit 1.
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *kmb_prog = "kmbench";

int kmb_cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", kmb_prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s%s%s --help)\n", kmb_prog, cmd ? " " : "", cmd ? cmd : "");
	return 2;
}

int kmb_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end != '\0' || (shift && v > (ULLONG_MAX >> shift)))
		return -EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

int kmb_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

char *kmb_cli_next_spec(char **cursor)
{
	char *s = *cursor, *p;
	int depth = 0;

	if (s == NULL)
		return NULL;
	while (*s == ',')
		s++;
	if (*s == '\0') {
		*cursor = NULL;
		return NULL;
	}
	for (p = s; *p && (*p != ',' || depth > 0); p++)
		depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
	*cursor = *p ? p + 1 : NULL;
	*p = '\0';
	return s;
}

int kmb_cli_check_backend(const char *cmd, const char *spec)
{
	char err[512];

	if (kmb_spec_check(spec, err, sizeof(err)) != 0)
		return kmb_cli_error(cmd, "%s", err);
	return 0;
}

bool kmb_progress_enabled(void)
{
	return isatty(STDERR_FILENO) != 0;
}

int kmb_cli_check_topology(const char *cmd, const char *spec)
{
	struct kmb_topo tp;
	char err[512];

	if (spec == NULL)
		return 0;
	if (kmb_topo_load(&tp, spec, err, sizeof(err)) != 0)
		return kmb_cli_error(cmd, "%s", err);
	kmb_topo_free(&tp);
	return 0;
}
