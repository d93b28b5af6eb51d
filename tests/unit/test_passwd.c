/* test_passwd.c: scrypt hashing, verification, tamper resistance and random passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "passwd.h"

static void
test_hash_verify(void **state)
{
	char *enc = NULL, *enc2 = NULL;

	(void)state;
	assert_int_equal(passwd_hash("correct horse battery", &enc), 0);
	assert_non_null(enc);
	assert_int_equal(strncmp(enc, "scrypt$32768$8$1$", 17), 0);
	assert_int_equal(passwd_verify("correct horse battery", enc), 0);
	assert_int_equal(passwd_verify("correct horse batterY", enc), HSMCA_E_AUTH);
	assert_int_equal(passwd_verify("correct horse battery ", enc), HSMCA_E_AUTH);
	assert_int_equal(passwd_verify("x", enc), HSMCA_E_AUTH);
	/* Per-hash random salt: same password, different encodings, both verify. */
	assert_int_equal(passwd_hash("correct horse battery", &enc2), 0);
	assert_string_not_equal(enc, enc2);
	assert_int_equal(passwd_verify("correct horse battery", enc2), 0);
	free(enc);
	free(enc2);
}

/* Hashes computed outside this code (Python's hashlib.scrypt) with known parameters prove the KDF is really scrypt and that
 * stored parameters are honoured:
 *   hashlib.scrypt(b"password", salt=b"NaClNaClNaClNaCl", n=16, r=1, p=1, dklen=32)
 *   hashlib.scrypt(b"pleaseletmein", salt=b"SodiumChloride!!", n=1024, r=8, p=1, dklen=32) */
static void
test_known_vector(void **state)
{
	(void)state;
	assert_int_equal(passwd_verify("password", "scrypt$16$1$1$TmFDbE5hQ2xOYUNsTmFDbA==$"
	    "twtU6EYGoopJMxz3TmXfHmL027Fw5qeMNBMkhd4LuGU="), 0);
	assert_int_equal(passwd_verify("pleaseletmein", "scrypt$1024$8$1$U29kaXVtQ2hsb3JpZGUhIQ==$"
	    "JCuoisXDWnMRw1QkVC17679a7Kp9Mer3+lUbCCeUmAU="), 0);
	assert_int_equal(passwd_verify("pleaseletmeim", "scrypt$1024$8$1$U29kaXVtQ2hsb3JpZGUhIQ==$"
	    "JCuoisXDWnMRw1QkVC17679a7Kp9Mer3+lUbCCeUmAU="), HSMCA_E_AUTH);
	/* Same bytes, different stored N: the parameters are really read from the string. */
	assert_int_equal(passwd_verify("pleaseletmein", "scrypt$2048$8$1$U29kaXVtQ2hsb3JpZGUhIQ==$"
	    "JCuoisXDWnMRw1QkVC17679a7Kp9Mer3+lUbCCeUmAU="), HSMCA_E_AUTH);
}

static void
test_bad_inputs(void **state)
{
	char *enc = NULL, big[PASSWD_MAX_LEN + 2];

	(void)state;
	assert_int_equal(passwd_hash("", &enc), HSMCA_E_INVALID);
	assert_null(enc);
	assert_int_equal(passwd_hash(NULL, &enc), HSMCA_E_INVALID);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(passwd_hash(big, &enc), HSMCA_E_INVALID);
	assert_null(enc);
	big[PASSWD_MAX_LEN] = '\0';
	assert_int_equal(passwd_hash(big, &enc), 0);
	assert_int_equal(passwd_verify(big, enc), 0);
	free(enc);
}

static void
test_tampered_encodings(void **state)
{
	char *enc = NULL, *t;
	size_t i, len;
	int rc;
	static const char *const bad[] = {
		"", "scrypt", "scrypt$", "bcrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
		"scrypt$0$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$99999999999999999999999$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
		"scrypt$16$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$16$1$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$16$1$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
		"scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA==",
		"scrypt$16$1$1$!!!!AAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"scrypt$-16$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};

	(void)state;
	assert_int_equal(passwd_verify("pw", NULL), HSMCA_E_INVALID);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(passwd_verify("pw", bad[i]), HSMCA_E_INVALID);
	/* Every truncation of a real encoding is refused or mismatches; none verifies. */
	assert_int_equal(passwd_hash("pw-truncation", &enc), 0);
	len = strlen(enc);
	for (i = 0; i < len; i += 7) {
		t = strndup(enc, i);
		assert_non_null(t);
		rc = passwd_verify("pw-truncation", t);
		assert_true(rc == HSMCA_E_INVALID || rc == HSMCA_E_AUTH);
		free(t);
	}
	/* A flipped hash character mismatches. */
	t = strdup(enc);
	assert_non_null(t);
	t[len - 5] = t[len - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify("pw-truncation", t), HSMCA_E_AUTH);
	free(t);
	free(enc);
}

static void
test_generate(void **state)
{
	char *a = NULL, *b = NULL;
	size_t i;

	(void)state;
	assert_int_equal(passwd_generate(&a), 0);
	assert_int_equal(passwd_generate(&b), 0);
	assert_true(strlen(a) >= 20);
	assert_int_equal(strlen(a), PASSWD_GEN_LEN);
	assert_string_not_equal(a, b);
	for (i = 0; a[i] != '\0'; i++) {
		assert_null(strchr("0Oo1lI \"'\\", a[i]));
		assert_true(a[i] > 0x20 && a[i] < 0x7f);
	}
	assert_int_equal(passwd_check_policy(a), 0);
	passwd_free(a);
	passwd_free(b);
	passwd_free(NULL);
}

static void
test_generate_distribution(void **state)
{
	int seen[128] = { 0 };
	char *p = NULL;
	int i, j, distinct = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(passwd_generate(&p), 0);
		for (j = 0; p[j] != '\0'; j++)
			seen[(unsigned char)p[j]]++;
		passwd_free(p);
	}
	for (i = 0; i < 128; i++)
		distinct += seen[i] > 0;
	/* 4800 draws over 59 symbols: all of them appear with overwhelming probability. */
	assert_int_equal(distinct, 59);
}

static void
test_policy(void **state)
{
	(void)state;
	assert_int_equal(passwd_check_policy("shrt"), HSMCA_E_POLICY);
	assert_int_equal(passwd_check_policy("long enough password"), 0);
	assert_int_equal(passwd_check_policy("long enough\tpassword"), HSMCA_E_POLICY);
	assert_int_equal(passwd_check_policy(NULL), HSMCA_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_known_vector),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_tampered_encodings),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generate_distribution),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
