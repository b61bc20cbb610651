/*
 * tests/kmb_test.h - kmbench's test harness (in the manner of libuv's and mimalloc's).
 *
 *   KMB_TEST(name) { ... }      defines a test.  CMake finds every KMB_TEST(...) line and
 *                               registers "<program>/<name>" with CTest, so each test runs
 *                               in its own process, with a timeout, and labels.
 *   ASSERT_EQ_U(a, b) etc.      typed assertions that print both sides on failure.
 *   EXPECT_PANIC(kind, stmt)    runs stmt and requires that it panics with kind; the
 *                               panic message is left in kmb_test_panic_msg.
 *
 * Run a program with no argument to run all its tests (each in a child process), with
 * a test name to run that one in-process (an optional second argument is left in
 * kmb_test_arg), or with --list.
 */
#ifndef KMB_TESTS_KMB_TEST_H
#define KMB_TESTS_KMB_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmbench/kmalloc.h>

typedef void (*kmb_test_fn)(void);
extern const char *kmb_test_arg; /* "program TEST ARG": ARG (e.g. a backend spec), or NULL */
void kmb_test_register(const char *name, kmb_test_fn fn);
int kmb_test_main(int argc, char **argv);
__attribute__((noreturn)) void kmb_test_fail(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define KMB_TEST(name)                                                                             \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void kmb__test_reg_##name(void)                        \
	{                                                                                          \
		kmb_test_register(#name, test_##name);                                             \
	}                                                                                          \
	static void test_##name(void)

#define KMB_TEST_MAIN()                                                                            \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return kmb_test_main(argc, argv);                                                  \
	}

#define ASSERT_TRUE(c)                                                                             \
	do {                                                                                       \
		if (!(c))                                                                          \
			kmb_test_fail(__FILE__, __LINE__, "ASSERT_TRUE(%s)", #c);                  \
	} while (0)
#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))

#define ASSERT_CMP_U(a, op, b)                                                                     \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (!(a_ op b_))                                                                   \
			kmb_test_fail(__FILE__, __LINE__, "%s %s %s: %" PRIu64 " vs %" PRIu64, #a, \
			              #op, #b, a_, b_);                                            \
	} while (0)
#define ASSERT_CMP_I(a, op, b)                                                                     \
	do {                                                                                       \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                      \
		if (!(a_ op b_))                                                                   \
			kmb_test_fail(__FILE__, __LINE__, "%s %s %s: %" PRId64 " vs %" PRId64, #a, \
			              #op, #b, a_, b_);                                            \
	} while (0)
#define ASSERT_CMP_F(a, op, b)                                                                     \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b);                                         \
		if (!(a_ op b_))                                                                   \
			kmb_test_fail(__FILE__, __LINE__, "%s %s %s: %.17g vs %.17g", #a, #op, #b, \
			              a_, b_);                                                     \
	} while (0)
#define ASSERT_EQ_U(a, b) ASSERT_CMP_U(a, ==, b)
#define ASSERT_EQ_I(a, b) ASSERT_CMP_I(a, ==, b)
#define ASSERT_EQ_PTR(a, b)                                                                        \
	do {                                                                                       \
		const void *a_ = (a), *b_ = (b);                                                   \
		if (a_ != b_)                                                                      \
			kmb_test_fail(__FILE__, __LINE__, "%s == %s: %p vs %p", #a, #b, a_, b_);   \
	} while (0)
#define ASSERT_NULL(a) ASSERT_EQ_PTR(a, NULL)
#define ASSERT_NOT_NULL(a)                                                                         \
	do {                                                                                       \
		if ((a) == NULL)                                                                   \
			kmb_test_fail(__FILE__, __LINE__, "%s != NULL", #a);                       \
	} while (0)
#define ASSERT_EQ_STR(a, b)                                                                        \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                               \
			kmb_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b,    \
			              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                     \
	} while (0)
#define ASSERT_CONTAINS(hay, needle)                                                               \
	do {                                                                                       \
		const char *h_ = (hay), *n_ = (needle);                                            \
		if (h_ == NULL || strstr(h_, n_) == NULL)                                          \
			kmb_test_fail(__FILE__, __LINE__, "%s contains \"%s\": \"%s\"", #hay, n_,  \
			              h_ ? h_ : "(null)");                                         \
	} while (0)

/* ---- catching panics ---------------------------------------------------------------- */

extern _Thread_local jmp_buf *kmb_test_panic_jmp;
extern _Thread_local int kmb_test_panic_kind;
extern _Thread_local char kmb_test_panic_msg[512];
void kmb_test_catch_panics(void); /* installs the catching handler */

#define EXPECT_PANIC(kind, stmt)                                                                   \
	do {                                                                                       \
		jmp_buf jb_;                                                                       \
		kmb_test_catch_panics();                                                           \
		kmb_test_panic_kind = -1;                                                          \
		kmb_test_panic_jmp = &jb_;                                                         \
		if (setjmp(jb_) == 0) {                                                            \
			stmt;                                                                      \
			kmb_test_panic_jmp = NULL;                                                 \
			kmb_test_fail(__FILE__, __LINE__, "%s did not panic (expected %s)", #stmt, \
			              kmb_panic_kind_name(kind));                                  \
		}                                                                                  \
		kmb_test_panic_jmp = NULL;                                                         \
		if (kmb_test_panic_kind != (int)(kind))                                            \
			kmb_test_fail(__FILE__, __LINE__, "%s panicked with %s, expected %s: %s",  \
			              #stmt, kmb_panic_kind_name(kmb_test_panic_kind),             \
			              kmb_panic_kind_name(kind), kmb_test_panic_msg);              \
	} while (0)

#endif /* KMB_TESTS_KMB_TEST_H */
