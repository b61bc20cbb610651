/*
 * tests/kmb_test.c - the harness behind kmb_test.h: registry, runner, panic catcher.
 */
#include "kmb_test.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define KMB_TEST_MAX 256

const char *kmb_test_arg; /* argv[2] of "program TEST ARG", NULL otherwise */

static struct {
	const char *name;
	kmb_test_fn fn;
} tests[KMB_TEST_MAX];
static int ntests;

_Thread_local jmp_buf *kmb_test_panic_jmp;
_Thread_local int kmb_test_panic_kind = -1;
_Thread_local char kmb_test_panic_msg[512];

void kmb_test_register(const char *name, kmb_test_fn fn)
{
	if (ntests == KMB_TEST_MAX) {
		fprintf(stderr, "kmb_test: more than %d tests in one program\n", KMB_TEST_MAX);
		abort();
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void kmb_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: assertion failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

static void catching_handler(const struct kmb_panic_info *info)
{
	kmb_test_panic_kind = (int)info->kind;
	snprintf(kmb_test_panic_msg, sizeof(kmb_test_panic_msg), "%s", info->message);
	if (kmb_test_panic_jmp != NULL)
		longjmp(*kmb_test_panic_jmp, 1);
	fprintf(stderr, "unexpected panic: %s\n", info->message);
	abort();
}

void kmb_test_catch_panics(void)
{
	kmb_set_panic_handler(catching_handler);
}

static int run_one(int i)
{
	tests[i].fn();
	return 0;
}

static int run_forked(int i)
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return run_one(i);
	if (pid == 0)
		_exit(run_one(i));
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "%s: killed by signal %d\n", tests[i].name, WTERMSIG(st));
	return 1;
}

int kmb_test_main(int argc, char **argv)
{
	int failed = 0, passed = 0;

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc > 2)
		kmb_test_arg = argv[2];
	if (argc > 1) {
		for (int i = 0; i < ntests; i++)
			if (strcmp(tests[i].name, argv[1]) == 0)
				return run_one(i);
		fprintf(stderr, "%s: no test named '%s' (--list lists them)\n", argv[0], argv[1]);
		return 2;
	}
	for (int i = 0; i < ntests; i++) {
		int rc = run_forked(i);
		printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", tests[i].name);
		rc == 0 ? passed++ : failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
