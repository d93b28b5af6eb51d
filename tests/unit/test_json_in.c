/* test_json_in.c: the bounded JSON readers: parse refusals, unknown keys, each reader's types,
 * bounds, absence and null, and a deterministic mutation sweep that must never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "json_in.h"

static json_t *
parse_ok(const char *s)
{
	json_t *o = NULL;

	assert_int_equal(json_in_parse(s, strlen(s), &o), 0);
	assert_non_null(o);
	return o;
}

static void
test_parse(void **state)
{
	static const char *const bad[] = {
		"", "   ", "[]", "\"x\"", "42", "null", "{", "{\"a\":1,}", "{\"a\":1}{", "{\"a\":1} x",
		"{\"a\":1,\"a\":2}",                  /* duplicate key */
		"{\"a\":\"x\\u0000y\"}",              /* NUL inside a string */
		"{\"a\":\"\xff\xfe\"}",               /* invalid UTF-8 */
		"{'a':1}",
	};
	char deep[200];
	json_t *o = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(json_in_parse(bad[i], strlen(bad[i]), &o), HSMCA_E_INVALID);
		assert_null(o);
	}
	assert_int_equal(json_in_parse(NULL, 0, &o), HSMCA_E_INVALID);
	/* The error never quotes the body (it may hold a password). */
	assert_int_equal(json_in_parse("{\"password\":\"s3cret\" x}", 22, &o), HSMCA_E_INVALID);
	assert_null(strstr(err_msg(HSMCA_E_INVALID), "s3cret"));
	assert_int_equal(json_in_parse("{\"password\":\"s3cr\\u0000et\"}", 28, &o), HSMCA_E_INVALID);
	assert_null(strstr(err_msg(HSMCA_E_INVALID), "s3cr"));
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "must not contain"));
	/* A NUL byte in the raw body (outside strings) is refused, not read as the end. */
	assert_int_equal(json_in_parse("{\"a\":1}\0{", 9, &o), HSMCA_E_INVALID);
	/* Depth: 16 levels pass, 17 do not. */
	memset(deep, 0, sizeof(deep));
	for (i = 0; i < 15; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (i = 0; i < 15; i++)
		strcat(deep, "}");
	o = parse_ok(deep);
	json_decref(o);
	memset(deep, 0, sizeof(deep));
	for (i = 0; i < 17; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (i = 0; i < 17; i++)
		strcat(deep, "}");
	assert_int_equal(json_in_parse(deep, strlen(deep), &o), HSMCA_E_INVALID);
}

static void
test_only(void **state)
{
	static const char *const allowed[] = { "username", "password", NULL };
	json_t *o;

	(void)state;
	o = parse_ok("{\"username\":\"a\",\"password\":\"b\"}");
	assert_int_equal(json_in_only(o, allowed), 0);
	json_decref(o);
	o = parse_ok("{\"username\":\"a\",\"pasword\":\"b\"}");
	assert_int_equal(json_in_only(o, allowed), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "pasword"));
	json_decref(o);
	/* A hostile key is shown cut and without control characters. */
	o = parse_ok("{\"\\n\\u001b[31mAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\":1}");
	assert_int_equal(json_in_only(o, allowed), HSMCA_E_INVALID);
	assert_null(strchr(err_msg(HSMCA_E_INVALID), '\n'));
	assert_null(strchr(err_msg(HSMCA_E_INVALID), 0x1b));
	assert_true(strlen(err_msg(HSMCA_E_INVALID)) < 80);
	json_decref(o);
}

static void
test_str(void **state)
{
	const char *s;
	json_t *o;

	(void)state;
	o = parse_ok("{\"a\":\"hello\",\"n\":5,\"e\":\"\",\"z\":null,\"c\":\"x\\ty\",\"u\":\"\\u00e9t\\u00e9\"}");
	assert_int_equal(json_in_str(o, "a", 1, 1, 10, 0, &s), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(json_in_str(o, "a", 1, 1, 4, 0, &s), HSMCA_E_INVALID);
	assert_null(s);
	assert_int_equal(json_in_str(o, "a", 1, 6, 10, 0, &s), HSMCA_E_INVALID);
	assert_int_equal(json_in_str(o, "n", 1, 1, 10, 0, &s), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "must be a string"));
	assert_int_equal(json_in_str(o, "e", 1, 1, 10, 0, &s), HSMCA_E_INVALID);
	assert_int_equal(json_in_str(o, "e", 1, 0, 10, 0, &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(json_in_str(o, "missing", 1, 1, 10, 0, &s), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "required"));
	assert_int_equal(json_in_str(o, "missing", 0, 1, 10, 0, &s), 0);
	assert_null(s);
	/* null is absent. */
	assert_int_equal(json_in_str(o, "z", 0, 1, 10, 0, &s), 0);
	assert_null(s);
	assert_int_equal(json_in_str(o, "z", 1, 1, 10, 0, &s), HSMCA_E_INVALID);
	/* Control characters only where allowed. */
	assert_int_equal(json_in_str(o, "c", 1, 1, 10, 0, &s), HSMCA_E_INVALID);
	assert_int_equal(json_in_str(o, "c", 1, 1, 10, 1, &s), 0);
	/* Lengths are bytes: "été" is 5. */
	assert_int_equal(json_in_str(o, "u", 1, 1, 5, 0, &s), 0);
	assert_int_equal(json_in_str(o, "u", 1, 1, 4, 0, &s), HSMCA_E_INVALID);
	json_decref(o);
}

static void
test_int_bool_enum(void **state)
{
	static const char *const roles[] = { "admin", "operator", NULL };
	const char *s;
	int64_t v;
	int b;
	json_t *o;

	(void)state;
	o = parse_ok("{\"i\":30,\"r\":1.5,\"s\":\"30\",\"neg\":-1,"
	    "\"t\":true,\"f\":false,\"role\":\"admin\",\"bad\":\"root\",\"arr\":[1]}");
	assert_int_equal(json_in_int(o, "i", 1, 1, 3650, 0, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(json_in_int(o, "i", 1, 31, 3650, 0, &v), HSMCA_E_INVALID);
	assert_int_equal(json_in_int(o, "r", 1, 0, 10, 0, &v), HSMCA_E_INVALID);
	assert_int_equal(json_in_int(o, "s", 1, 0, 100, 0, &v), HSMCA_E_INVALID);
	assert_int_equal(json_in_int(o, "neg", 1, 0, 100, 0, &v), HSMCA_E_INVALID);
	assert_int_equal(json_in_int(o, "arr", 1, 0, 100, 0, &v), HSMCA_E_INVALID);
	assert_int_equal(json_in_int(o, "missing", 0, 0, 100, 7, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(json_in_bool(o, "t", 1, 0, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_in_bool(o, "f", 1, 1, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_in_bool(o, "i", 1, 0, &b), HSMCA_E_INVALID);
	assert_int_equal(json_in_bool(o, "missing", 0, -1, &b), 0);
	assert_int_equal(b, -1);
	assert_int_equal(json_in_enum(o, "role", 1, roles, &s), 0);
	assert_string_equal(s, "admin");
	assert_int_equal(json_in_enum(o, "bad", 1, roles, &s), HSMCA_E_INVALID);
	assert_null(s);
	assert_int_equal(json_in_enum(o, "i", 1, roles, &s), HSMCA_E_INVALID);
	json_decref(o);
	/* Integers beyond int64 do not parse at all (jansson refuses them). */
	assert_int_equal(json_in_parse("{\"big\":99999999999999999999}", 28, &o), HSMCA_E_INVALID);
}

static void
test_arrays(void **state)
{
	const char **items = NULL;
	int64_t *ints = NULL;
	size_t n = 99;
	json_t *o;

	(void)state;
	o = parse_ok("{\"sans\":[\"DNS:a\",\"IP:1.2.3.4\"],\"mixed\":[\"a\",1],\"empty\":[\"\"],\"ids\":[1,2,3],"
	    "\"s\":\"x\"}");
	assert_int_equal(json_in_str_array(o, "sans", 1, 10, 64, &items, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[1], "IP:1.2.3.4");
	free(items);
	assert_int_equal(json_in_str_array(o, "sans", 1, 1, 64, &items, &n), HSMCA_E_INVALID);
	assert_null(items);
	assert_int_equal(json_in_str_array(o, "mixed", 1, 10, 64, &items, &n), HSMCA_E_INVALID);
	assert_null(items);
	assert_int_equal(json_in_str_array(o, "empty", 1, 10, 64, &items, &n), HSMCA_E_INVALID);
	assert_int_equal(json_in_str_array(o, "s", 1, 10, 64, &items, &n), HSMCA_E_INVALID);
	assert_int_equal(json_in_str_array(o, "missing", 0, 10, 64, &items, &n), 0);
	assert_null(items);
	assert_int_equal(n, 0);
	assert_int_equal(json_in_int_array(o, "ids", 1, 10, 1, 3, &ints, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ints[2], 3);
	free(ints);
	assert_int_equal(json_in_int_array(o, "ids", 1, 10, 2, 3, &ints, &n), HSMCA_E_INVALID);
	assert_null(ints);
	json_decref(o);
}

/* Every truncation and every single-bit flip of a valid body either parses or is refused with
 * HSMCA_E_INVALID, and the readers cope with whatever parses (ASan watches for the rest). */
static void
test_mutations(void **state)
{
	static const char body[] = "{\"username\":\"alice\",\"password\":\"p4ss w\\u00f6rd\",\"totp\":\"123456\","
	    "\"validity_days\":30,\"tags\":[\"a\",\"b\"],\"enabled\":true}";
	static const char *const allowed[] = { "username", "password", "totp", "validity_days", "tags",
		"enabled", NULL };
	char buf[sizeof(body)];
	const char *s, **items;
	size_t len = sizeof(body) - 1, i, n;
	int bit, rc, b;
	int64_t v;
	json_t *o;

	(void)state;
	for (i = 0; i <= len; i++) {
		rc = json_in_parse(body, i, &o);
		assert_true(rc == 0 || rc == HSMCA_E_INVALID);
		json_decref(o);
	}
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, body, len);
			buf[i] ^= (char)(1 << bit);
			rc = json_in_parse(buf, len, &o);
			assert_true(rc == 0 || rc == HSMCA_E_INVALID);
			if (rc != 0)
				continue;
			(void)json_in_only(o, allowed);
			(void)json_in_str(o, "username", 1, 1, 64, 0, &s);
			(void)json_in_str(o, "password", 1, 1, 1024, 1, &s);
			(void)json_in_int(o, "validity_days", 1, 1, 3650, 0, &v);
			(void)json_in_bool(o, "enabled", 0, 0, &b);
			if (json_in_str_array(o, "tags", 0, 8, 32, &items, &n) == 0)
				free(items);
			json_decref(o);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_int_bool_enum),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
