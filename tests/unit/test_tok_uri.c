/* test_tok_uri.c: RFC 7512 pkcs11: URI parse and format (pkcs11/tok_uri.c, pure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "tok_uri.h"

static void
test_parse_full(void **state)
{
	struct tok_uri u;

	(void)state;
	assert_int_equal(tok_uri_parse("pkcs11:token=hsmca;id=%01%02%ff;object=My%20CA;type=private", &u), 0);
	assert_string_equal(u.token, "hsmca");
	assert_string_equal(u.object, "My CA");
	assert_int_equal(u.id_len, 3);
	assert_memory_equal(u.id, "\x01\x02\xff", 3);
	assert_string_equal(u.type, "private");

	/* Order does not matter; unknown and query attributes are tolerated (RFC 7512 2.3). */
	assert_int_equal(tok_uri_parse("pkcs11:type=public;x-vendor=abc;manufacturer=SoftHSM%20project;"
	    "id=A%42;serial=1234?pin-source=file:/etc/pin&module-path=/usr/lib/x.so", &u), 0);
	assert_string_equal(u.type, "public");
	assert_string_equal(u.token, "");
	assert_int_equal(u.id_len, 2);
	assert_memory_equal(u.id, "AB", 2);

	assert_int_equal(tok_uri_parse("pkcs11:type=cert", &u), 0);
	assert_string_equal(u.type, "cert");

	/* An empty URI and empty values are legal. */
	assert_int_equal(tok_uri_parse("pkcs11:", &u), 0);
	assert_int_equal(u.id_len, 0);
	assert_int_equal(tok_uri_parse("pkcs11:object=", &u), 0);
	assert_string_equal(u.object, "");

	/* RFC 7512 path characters that need no escape. */
	assert_int_equal(tok_uri_parse("pkcs11:object=a:b[c]@d!$'()*+,=&~-._", &u), 0);
	assert_string_equal(u.object, "a:b[c]@d!$'()*+,=&~-._");
}

static void
test_format_roundtrip(void **state)
{
	struct tok_uri u, v;
	char *s = NULL, *s2 = NULL;
	size_t i;

	(void)state;
	memset(&u, 0, sizeof(u));
	strcpy(u.token, "hsmca token;?%");
	strcpy(u.object, "CA key / \xc3\xa9t\xc3\xa9");
	for (i = 0; i < 16; i++)
		u.id[i] = (uint8_t)(i * 17);
	u.id_len = 16;
	strcpy(u.type, "private");
	assert_int_equal(tok_uri_format(&u, &s), 0);
	assert_string_equal(s, "pkcs11:token=hsmca%20token%3B%3F%25;"
	    "id=%00%11%22%33%44%55%66%77%88%99%AA%BB%CC%DD%EE%FF;"
	    "object=CA%20key%20%2F%20%C3%A9t%C3%A9;type=private");
	assert_int_equal(tok_uri_parse(s, &v), 0);
	assert_memory_equal(&u, &v, sizeof(u));
	/* Format of the parse of the format is stable. */
	assert_int_equal(tok_uri_format(&v, &s2), 0);
	assert_string_equal(s, s2);
	free(s);
	free(s2);

	/* Only the fields set are written. */
	memset(&u, 0, sizeof(u));
	u.id[0] = 0x41;
	u.id_len = 1;
	assert_int_equal(tok_uri_format(&u, &s), 0);
	assert_string_equal(s, "pkcs11:id=%41");
	free(s);

	/* Maximum sizes round-trip. */
	memset(&u, 0, sizeof(u));
	memset(u.token, 'T', TOK_URI_TOKEN_MAX);
	memset(u.object, ' ', TOK_URI_LABEL_MAX);
	memset(u.id, 0xee, TOK_URI_ID_MAX);
	u.id_len = TOK_URI_ID_MAX;
	strcpy(u.type, "cert");
	assert_int_equal(tok_uri_format(&u, &s), 0);
	assert_int_equal(tok_uri_parse(s, &v), 0);
	assert_memory_equal(&u, &v, sizeof(u));
	free(s);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"pkcs1:id=%01",
		"PKCS11:id=%01",                    /* ours are always lower case */
		"http://example.com/",
		"pkcs11:id=%0",                     /* short escape */
		"pkcs11:id=%",
		"pkcs11:id=%g1",                    /* not hex */
		"pkcs11:id=%01;",                   /* trailing ';' */
		"pkcs11:;id=%01",                   /* empty attribute */
		"pkcs11:id=%01;;type=private",
		"pkcs11:id",                        /* no '=' */
		"pkcs11:=x",                        /* no name */
		"pkcs11:ID=%01",                    /* names are lower case */
		"pkcs11:id=%01;id=%02",             /* repeated */
		"pkcs11:token=a;token=b",
		"pkcs11:object=a;object=b",
		"pkcs11:type=private;type=private",
		"pkcs11:type=secret-key",           /* not a type we accept */
		"pkcs11:type=data",
		"pkcs11:type=",
		"pkcs11:type=privatex",
		"pkcs11:object=a b",                /* raw space */
		"pkcs11:object=a\"b",
		"pkcs11:object=a/b",                /* '/' only in the query */
		"pkcs11:object=a%00b",              /* NUL in a text value */
		"pkcs11:token=%00",
		"pkcs11:object=caf\xc3\xa9",        /* raw non-ASCII */
		"pkcs11:token=123456789012345678901234567890123",  /* 33 bytes > 32 */
		"pkcs11:id=%01?pin-value",          /* query without '=' */
		"pkcs11:id=%01?a=b&",               /* empty query attribute */
		"pkcs11:id=%01?a=b c",
		"pkcs11:x-vendor=%zz",              /* unknown attributes still need valid syntax */
	};
	struct tok_uri u;
	char id65[300];
	char *huge;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u.id_len = 7;
		err_clear();
		if (tok_uri_parse(bad[i], &u) != HSMCA_E_INVALID)
			fail_msg("accepted malformed URI #%zu: %s", i, bad[i]);
		assert_int_equal(u.id_len, 0);   /* cleared on failure */
		assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "pkcs11 URI"));
	}
	assert_int_equal(tok_uri_parse(NULL, &u), HSMCA_E_INVALID);

	/* id longer than TOK_URI_ID_MAX. */
	strcpy(id65, "pkcs11:id=");
	for (i = 0; i < TOK_URI_ID_MAX + 1; i++)
		strcat(id65, "%01");
	assert_int_equal(tok_uri_parse(id65, &u), HSMCA_E_INVALID);

	/* A URI over TOK_URI_MAX. */
	huge = malloc(TOK_URI_MAX + 100);
	assert_non_null(huge);
	strcpy(huge, "pkcs11:x-pad=");
	memset(huge + strlen(huge), 'a', TOK_URI_MAX);
	huge[TOK_URI_MAX + 20] = '\0';
	assert_int_equal(tok_uri_parse(huge, &u), HSMCA_E_INVALID);
	free(huge);
}

/* Deterministic mutation of a valid URI: every truncation and every single-byte change must
 * either parse or be refused cleanly (the sanitizer build checks for the rest). */
static void
test_mutations(void **state)
{
	const char *good = "pkcs11:token=hsmca;id=%01%02%03;object=CA%20key;type=private?module-path=/x";
	char buf[128];
	struct tok_uri u;
	size_t len = strlen(good), i;
	int b, rc;

	(void)state;
	for (i = 0; i <= len; i++) {
		memcpy(buf, good, i);
		buf[i] = '\0';
		rc = tok_uri_parse(buf, &u);
		assert_true(rc == 0 || rc == HSMCA_E_INVALID);
	}
	for (i = 0; i < len; i++) {
		for (b = 1; b < 256; b += 7) {
			strcpy(buf, good);
			buf[i] = (char)b;
			rc = tok_uri_parse(buf, &u);
			assert_true(rc == 0 || rc == HSMCA_E_INVALID);
		}
	}
}

static void
test_format_refuses(void **state)
{
	struct tok_uri u;
	char *s = (char *)1;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.id_len = TOK_URI_ID_MAX + 1;
	assert_int_equal(tok_uri_format(&u, &s), HSMCA_E_INVALID);
	assert_null(s);
	memset(&u, 0, sizeof(u));
	strcpy(u.type, "data");
	assert_int_equal(tok_uri_format(&u, &s), HSMCA_E_INVALID);
	memset(&u, 0, sizeof(u));
	memset(u.token, 'x', sizeof(u.token));   /* not NUL-terminated */
	assert_int_equal(tok_uri_format(&u, &s), HSMCA_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_format_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
