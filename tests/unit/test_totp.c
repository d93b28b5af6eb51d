/* test_totp.c: RFC 4226 Appendix D and RFC 6238 Appendix B vectors, the ±1 step window, base32
 * round trips (RFC 4648 §10 vectors) and the otpauth URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "totp.h"

static const uint8_t rfc_key[] = "12345678901234567890";

static void
test_hotp_rfc4226(void **state)
{
	/* RFC 4226 Appendix D, counters 0..9. */
	static const uint32_t want[] = { 755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583,
		399871, 520489 };
	uint32_t v;
	uint64_t c;

	(void)state;
	for (c = 0; c < 10; c++) {
		assert_int_equal(totp_hotp(rfc_key, 20, c, &v), 0);
		assert_int_equal(v, want[c]);
	}
	assert_int_equal(totp_hotp(rfc_key, 0, 0, &v), HSMCA_E_INVALID);
}

static void
test_totp_rfc6238(void **state)
{
	/* RFC 6238 Appendix B, SHA-1 column, truncated to 6 digits (the table shows 8). */
	static const struct { int64_t t; const char *code; } vec[] = {
		{ 59, "287082" }, { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000LL, "353130" },
	};
	char code[TOTP_DIGITS + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(totp_code_at(rfc_key, 20, vec[i].t, code), 0);
		assert_string_equal(code, vec[i].code);
	}
}

static void
test_verify_window(void **state)
{
	char code[TOTP_DIGITS + 1];
	int64_t t = 1234567890, step = 0;

	(void)state;
	assert_int_equal(totp_code_at(rfc_key, 20, t, code), 0);
	assert_int_equal(totp_verify(rfc_key, 20, t, code, &step), 0);
	assert_int_equal(step, t / 30);
	/* One step either side is accepted, two are not. */
	assert_int_equal(totp_verify(rfc_key, 20, t + 30, code, &step), 0);
	assert_int_equal(step, t / 30);
	assert_int_equal(totp_verify(rfc_key, 20, t - 30, code, NULL), 0);
	assert_int_equal(totp_verify(rfc_key, 20, t + 60, code, NULL), HSMCA_E_AUTH);
	assert_int_equal(totp_verify(rfc_key, 20, t - 60, code, NULL), HSMCA_E_AUTH);
	/* Malformed codes. */
	assert_int_equal(totp_verify(rfc_key, 20, t, "12345", NULL), HSMCA_E_INVALID);
	assert_int_equal(totp_verify(rfc_key, 20, t, "1234567", NULL), HSMCA_E_INVALID);
	assert_int_equal(totp_verify(rfc_key, 20, t, "12a456", NULL), HSMCA_E_INVALID);
	assert_int_equal(totp_verify(rfc_key, 20, t, "", NULL), HSMCA_E_INVALID);
	assert_int_equal(totp_verify(rfc_key, 20, t, NULL, NULL), HSMCA_E_INVALID);
	/* A wrong key does not verify. */
	assert_int_equal(totp_verify((const uint8_t *)"abcdefghijabcdefghij", 20, t, code, NULL), HSMCA_E_AUTH);
}

static void
test_base32(void **state)
{
	/* RFC 4648 §10 (without padding on output). */
	static const struct { const char *in, *out; } vec[] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" }, { "foob", "MZXW6YQ" },
		{ "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	char *enc = NULL;
	uint8_t *dec = NULL;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(totp_base32_encode((const uint8_t *)vec[i].in, strlen(vec[i].in), &enc), 0);
		assert_string_equal(enc, vec[i].out);
		assert_int_equal(totp_base32_decode(enc, &dec, &n), 0);
		assert_int_equal(n, strlen(vec[i].in));
		assert_memory_equal(dec, vec[i].in, n);
		free(enc);
		free(dec);
	}
	/* Padding, lower case and spaces are accepted on input. */
	assert_int_equal(totp_base32_decode("mzxw 6ytb oi======", &dec, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(dec, "foobar", 6);
	free(dec);
	assert_int_equal(totp_base32_decode("MZXW1", &dec, &n), HSMCA_E_INVALID);
	assert_null(dec);
	assert_int_equal(totp_base32_decode("MZ!W", &dec, &n), HSMCA_E_INVALID);
}

static void
test_uri(void **state)
{
	char *uri = NULL;

	(void)state;
	assert_int_equal(totp_uri("hsmca", "alice@example.test", rfc_key, 20, &uri), 0);
	assert_string_equal(uri, "otpauth://totp/hsmca:alice%40example.test?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=hsmca&algorithm=SHA1&digits=6&period=30");
	free(uri);
	assert_int_equal(totp_uri("my CA", "a&b=c", rfc_key, 20, &uri), 0);
	assert_non_null(strstr(uri, "totp/my%20CA:a%26b%3Dc?"));
	assert_non_null(strstr(uri, "&issuer=my%20CA&"));
	free(uri);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hotp_rfc4226),
		cmocka_unit_test(test_totp_rfc6238),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
