/* test_log.c: the log line format, escaping of hostile values, caps, levels and request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "log.h"

/* Captures what the logger writes through a pipe. */
static char *
capture(void (*fn)(void))
{
	static char out[8192];
	int p[2];
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	log_set_fd(p[1]);
	fn();
	log_set_fd(2);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void
emit_basic(void)
{
	struct log_line l;

	log_set_request_id("abc123");
	log_begin(&l, LOGL_INFO, "http", "request");
	log_str(&l, "method", "GET");
	log_str(&l, "path", "/api/v1/users");
	log_int(&l, "status", 200);
	log_str(&l, "actor", NULL);
	log_end(&l);
	log_set_request_id(NULL);
}

static void
test_format(void **state)
{
	char *s;

	(void)state;
	s = capture(emit_basic);
	/* 2026-01-02T03:04:05.678Z level=info comp=http event=request rid=abc123 ... */
	assert_int_equal(s[4], '-');
	assert_int_equal(s[10], 'T');
	assert_int_equal(s[23], 'Z');
	assert_non_null(strstr(s, " level=info comp=http event=request rid=abc123 method=GET "
	    "path=/api/v1/users status=200 actor=-\n"));
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));
}

static void
emit_hostile(void)
{
	struct log_line l;

	log_begin(&l, LOGL_NOTICE, "http", "request");
	log_str(&l, "path", "/x\nlevel=error comp=forged event=admin.created");
	log_str(&l, "user", "a b\"c\\d=e");
	log_mem(&l, "bin", "\x00\x01\xff", 3);
	log_str(&l, "empty", "");
	log_str(&l, "bad key!", "v");
	log_end(&l);
}

static void
test_escaping(void **state)
{
	char *s;

	(void)state;
	s = capture(emit_hostile);
	/* One line only: the newline is escaped, so the forged fields stay inside a quoted value. */
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));
	assert_non_null(strstr(s, " path=\"/x\\nlevel=error comp=forged event=admin.created\" "));
	assert_non_null(strstr(s, " user=\"a b\\\"c\\\\d=e\" "));
	assert_non_null(strstr(s, "bin=\"\\x00\\x01\\xff\""));
	assert_non_null(strstr(s, "empty=\"\""));
	assert_non_null(strstr(s, "bad_key_=v"));
}

static void
emit_long(void)
{
	char big[5000];
	struct log_line l;
	int i;

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_begin(&l, LOGL_INFO, "t", "long");
	for (i = 0; i < 10; i++)
		log_str(&l, "v", big);
	log_end(&l);
}

static void
test_caps(void **state)
{
	char *s;
	char out[32];

	(void)state;
	s = capture(emit_long);
	assert_true(strlen(s) <= LOG_LINE_MAX);
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_non_null(strstr(s, "AAA..."));
	assert_non_null(strstr(s, "truncated=1"));
	/* log_escape never overflows and always closes its quote. */
	log_escape(out, sizeof(out), "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 18, 256);
	assert_true(strlen(out) < sizeof(out));
	assert_int_equal(out[0], '"');
	assert_int_equal(out[strlen(out) - 1], '"');
	assert_non_null(strstr(out, "..."));
}

static void
emit_levels(void)
{
	log_set_level(LOGL_NOTICE);
	log_msg(LOGL_INFO, "t", "hidden", "not shown");
	log_msg(LOGL_NOTICE, "t", "shown", "count %d", 3);
	log_msg(LOGL_ERROR, "t", "shown.too", "x");
	log_set_level(LOGL_INFO);
}

static void
test_levels(void **state)
{
	enum log_level lv;
	char *s;

	(void)state;
	s = capture(emit_levels);
	assert_null(strstr(s, "hidden"));
	assert_non_null(strstr(s, "level=notice comp=t event=shown msg=\"count 3\""));
	assert_non_null(strstr(s, "level=error comp=t event=shown.too msg=x"));
	assert_int_equal(log_level_parse("debug", &lv), 0);
	assert_int_equal(lv, LOGL_DEBUG);
	assert_int_equal(log_level_parse("loud", &lv), HSMCA_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
