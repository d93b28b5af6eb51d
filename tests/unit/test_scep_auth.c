/*
 * test_scep_auth.c: SCEP authentication entries on a real database: salted hashes, constant-time
 * verification, names, creation (secret once, audit row), challenge and Basic matching, one-time
 * use, disabled and expired entries, and giving a use back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ca_testutil.h"
#include "ca.h"
#include "db_scep.h"
#include "scep_auth.h"

static struct ca_fx fx;
static int64_t ca_id;

static int
setup(void **state)
{
	struct ca_create_req req;
	struct db_ca *ca = NULL;

	(void)state;
	(void)ca_fx_counts;        /* shared helpers this test does not need */
	(void)ca_fx_token_keys;
	if (ca_fx_open(&fx) != 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.name = "Auth Test CA";
	req.key_spec = "ec-256";
	req.pathlen = -1;
	if (ca_create_root(fx.ctx, &req, &ca) != 0)
		return -1;
	ca_id = ca->id;
	db_ca_free(ca);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ca_fx_close(&fx);
	return 0;
}

static void
test_hash_verify(void **state)
{
	char h1[SCEP_AUTH_HASH_MAX], h2[SCEP_AUTH_HASH_MAX];
	const uint8_t *s = (const uint8_t *)"correct horse battery staple";

	(void)state;
	assert_int_equal(scep_auth_hash(s, 28, h1), 0);
	assert_int_equal(scep_auth_hash(s, 28, h2), 0);
	assert_true(strncmp(h1, "sha256$", 7) == 0);
	assert_string_not_equal(h1, h2);                 /* per-row salt */
	assert_true(scep_auth_verify(h1, s, 28));
	assert_true(scep_auth_verify(h2, s, 28));
	assert_false(scep_auth_verify(h1, s, 27));
	assert_false(scep_auth_verify(h1, (const uint8_t *)"correct horse battery stapl3", 28));
	assert_false(scep_auth_verify("sha256$zz", s, 28));
	assert_false(scep_auth_verify("", s, 28));
	assert_false(scep_auth_verify(NULL, s, 28));
	h1[10] = h1[10] == 'a' ? 'b' : 'a';              /* a different salt */
	assert_false(scep_auth_verify(h1, s, 28));
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(scep_auth_check_name("router-01.example@site_a"), 0);
	assert_int_equal(scep_auth_check_name(""), HSMCA_E_INVALID);
	assert_int_equal(scep_auth_check_name("a:b"), HSMCA_E_INVALID);
	assert_int_equal(scep_auth_check_name("a b"), HSMCA_E_INVALID);
	assert_int_equal(scep_auth_check_name("x'; DROP TABLE scep_auth;--"), HSMCA_E_INVALID);
	assert_int_equal(scep_auth_check_name("0123456789012345678901234567890123456789012345678901234567890123456789"),
	    HSMCA_E_INVALID);
}

static int64_t
count(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db_handle(fx.ctx->db), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_create_match_use(void **state)
{
	struct db *db = fx.ctx->db;
	char *secret = NULL, *reusable = NULL;
	int64_t id = 0, rid = 0, got = 0, audits = count("SELECT count(*) FROM audit");

	(void)state;
	assert_int_equal(scep_auth_create(db, "one", ca_id, 0, 0, "user:t", "127.0.0.1", &secret, &id), 0);
	assert_non_null(secret);
	assert_int_equal(strlen(secret), SCEP_AUTH_SECRET_LEN);
	assert_int_equal(count("SELECT count(*) FROM audit"), audits + 1);
	/* The same name twice on one CA is refused, nothing written. */
	{
		char *s2 = NULL;
		int64_t id2 = 0;

		assert_int_equal(scep_auth_create(db, "one", ca_id, 1, 0, NULL, NULL, &s2, &id2), HSMCA_E_EXISTS);
		assert_null(s2);
		assert_int_equal(count("SELECT count(*) FROM audit"), audits + 1);
	}
	assert_int_equal(scep_auth_create(db, "many", ca_id, 1, 0, NULL, NULL, &reusable, &rid), 0);

	/* challengePassword matching */
	assert_int_equal(scep_auth_match_challenge(db, ca_id, (const uint8_t *)secret, strlen(secret), &got), 0);
	assert_int_equal(got, id);
	assert_int_equal(scep_auth_match_challenge(db, ca_id, (const uint8_t *)"nope", 4, &got), HSMCA_E_AUTH);
	assert_int_equal(scep_auth_match_challenge(db, ca_id, NULL, 0, &got), HSMCA_E_AUTH);
	assert_int_equal(scep_auth_match_challenge(db, ca_id + 1000, (const uint8_t *)secret, strlen(secret), &got),
	    HSMCA_E_AUTH);

	/* one-time: one use, then refused; a use given back counts again */
	assert_int_equal(scep_auth_use(db, id), 0);
	assert_int_equal(scep_auth_use(db, id), HSMCA_E_AUTH);
	scep_auth_unuse(db, id);
	assert_int_equal(scep_auth_use(db, id), 0);
	/* reusable: many uses */
	assert_int_equal(scep_auth_use(db, rid), 0);
	assert_int_equal(scep_auth_use(db, rid), 0);

	/* Basic */
	assert_int_equal(scep_auth_match_basic(db, ca_id, "many", (const uint8_t *)reusable, strlen(reusable), &got), 0);
	assert_int_equal(got, rid);
	assert_int_equal(scep_auth_match_basic(db, ca_id, "many", (const uint8_t *)secret, strlen(secret), &got),
	    HSMCA_E_AUTH);
	assert_int_equal(scep_auth_match_basic(db, ca_id, "nobody", (const uint8_t *)reusable, strlen(reusable), &got),
	    HSMCA_E_AUTH);
	assert_int_equal(scep_auth_match_basic(db, ca_id, "bad:name", (const uint8_t *)reusable, strlen(reusable), &got),
	    HSMCA_E_AUTH);

	/* disabled: no match, no use, Basic refused */
	assert_int_equal(db_scep_auth_set_enabled(db, rid, 0), 0);
	assert_int_equal(scep_auth_match_challenge(db, ca_id, (const uint8_t *)reusable, strlen(reusable), &got),
	    HSMCA_E_AUTH);
	assert_int_equal(scep_auth_use(db, rid), HSMCA_E_AUTH);
	assert_int_equal(scep_auth_match_basic(db, ca_id, "many", (const uint8_t *)reusable, strlen(reusable), &got),
	    HSMCA_E_AUTH);
	/* no secret anywhere in the database */
	{
		char sql[200];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM scep_auth WHERE secret_hash LIKE '%%%s%%'", reusable);
		assert_int_equal(count(sql), 0);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE details LIKE '%%%s%%'", reusable);
		assert_int_equal(count(sql), 0);
	}
	scep_auth_secret_free(secret);
	scep_auth_secret_free(reusable);
	scep_auth_secret_free(NULL);
}

static void
test_expired(void **state)
{
	struct db *db = fx.ctx->db;
	char *secret = NULL;
	int64_t id = 0, got = 0;

	(void)state;
	/* expires in 50 ms: usable now, refused after */
	assert_int_equal(scep_auth_create(db, "soon", ca_id, 1, db_now_ms() + 50, NULL, NULL, &secret, &id), 0);
	assert_int_equal(scep_auth_use(db, id), 0);
	usleep(120 * 1000);
	assert_int_equal(scep_auth_match_challenge(db, ca_id, (const uint8_t *)secret, strlen(secret), &got), 0);
	assert_int_equal(scep_auth_use(db, id), HSMCA_E_AUTH);
	scep_auth_secret_free(secret);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_create_match_use),
		cmocka_unit_test(test_expired),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
