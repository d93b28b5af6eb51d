/* test_tok_uri_parse.c: RFC 7512 key references (pkcs11/tok_uri.c), pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "tok_uri.h"

static void
test_round_trip(void **state)
{
	struct tok_uri u, v;
	char *text = NULL;

	(void)state;
	memset(&u, 0, sizeof(u));
	strcpy(u.token, "hsmca");
	strcpy(u.object, "ca-demo root;x=y");
	strcpy(u.type, "private");
	u.id[0] = 0x00, u.id[1] = 0xff, u.id[2] = 0x41;
	u.id_len = 3;
	assert_int_equal(tok_uri_format(&u, &text), 0);
	assert_string_equal(text, "pkcs11:token=hsmca;id=%00%FF%41;object=ca-demo%20root%3Bx%3Dy;type=private");
	assert_int_equal(tok_uri_parse(text, &v), 0);
	assert_string_equal(v.token, "hsmca");
	assert_string_equal(v.object, "ca-demo root;x=y");
	assert_string_equal(v.type, "private");
	assert_int_equal(v.id_len, 3);
	assert_memory_equal(v.id, u.id, 3);
	free(text);
}

static void
test_accepts_rfc_forms(void **state)
{
	struct tok_uri u;

	(void)state;
	/* Unknown path attributes are ignored, query attributes too (RFC 7512 §2.3). */
	assert_int_equal(tok_uri_parse("pkcs11:manufacturer=SoftHSM;id=%01;token=t?pin-source=file:/x", &u), 0);
	assert_string_equal(u.token, "t");
	assert_int_equal(u.id_len, 1);
	assert_int_equal(tok_uri_parse("pkcs11:", &u), 0);
	assert_int_equal(u.id_len, 0);
	assert_int_equal(tok_uri_parse("pkcs11:id=%aB", &u), 0);
	assert_int_equal(u.id[0], 0xab);
}

static void
test_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"", "pkcs:id=%01", "PKCS11:id=%01", "pkcs11:id", "pkcs11:=x", "pkcs11:id=%0", "pkcs11:id=%zz",
		"pkcs11:id=%01;id=%02", "pkcs11:token=a;token=b", "pkcs11:type=secret", "pkcs11:token=a%00b",
		"pkcs11:object=a b", "pkcs11:token=\x01", "pkcs11:token=\xc3\xa9", "pkcs11:id=%",
	};
	char longer[3000];
	struct tok_uri u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		assert_int_equal(tok_uri_parse(bad[i], &u), HSMCA_E_INVALID);
		assert_true(strstr(err_msg(HSMCA_E_INVALID), "pkcs11 URI") != NULL);
	}
	assert_int_equal(tok_uri_parse(NULL, &u), HSMCA_E_INVALID);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "pkcs11:token=", 13);
	assert_int_equal(tok_uri_parse(longer, &u), HSMCA_E_INVALID);
	/* An id longer than TOK_URI_ID_MAX bytes. */
	strcpy(longer, "pkcs11:id=");
	for (i = 0; i <= TOK_URI_ID_MAX; i++)
		strcat(longer, "%01");
	assert_int_equal(tok_uri_parse(longer, &u), HSMCA_E_INVALID);
}

/* Every truncation of a valid URI parses or fails cleanly, never reads past the end. */
static void
test_truncations(void **state)
{
	const char *uri = "pkcs11:token=hsmca;id=%00%FF%41;object=ca-demo%20root;type=private";
	char part[128];
	struct tok_uri u;
	size_t n;

	(void)state;
	for (n = 0; n <= strlen(uri); n++) {
		memcpy(part, uri, n);
		part[n] = '\0';
		(void)tok_uri_parse(part, &u);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_accepts_rfc_forms),
		cmocka_unit_test(test_refuses_malformed),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
