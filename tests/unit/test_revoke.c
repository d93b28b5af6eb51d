/*
 * test_revoke.c: two-step revocation on a real token and database: reason names, code
 * generation (format and spread), salted hashes, then the flow: wrong, foreign-user, voided,
 * expired, superseded and reused codes change nothing but the try counter; the right code revokes
 * once, writes both audit rows, publishes a CRL; an intermediate's certificate lands on its
 * parent's CRL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "audit.h"
#include "crl.h"
#include "db_certs.h"
#include "db_crls.h"
#include "revoke_testutil.h"
#include "scheduler.h"

static struct ca_fx fx;
static struct db_ca *root, *inter;
static EVP_PKEY *key;

static int
group_setup(void **state)
{
	struct ca_create_req r = { .name = "Rev Root", .key_spec = "ec-256", .pathlen = -1 };
	struct ca_create_req i = { .name = "Rev Inter", .key_spec = "ec-256", .parent_slug = "rev-root",
		.pathlen = -1 };

	(void)state;
	if (ca_fx_open(&fx) != 0 || ca_create_root(fx.ctx, &r, &root) != 0 ||
	    ca_create_intermediate(fx.ctx, &i, &inter) != 0) {
		fprintf(stderr, "setup: %s\n", err_msg(-1));
		return -1;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	db_ca_free(inter);
	db_ca_free(root);
	ca_fx_close(&fx);
	return 0;
}

static void
test_reasons(void **state)
{
	static const char *names[] = { "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	    "superseded", "cessationOfOperation" };
	int i, r;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(revoke_reason_parse(names[i], &r), 0);
		assert_int_equal(r, i);
		assert_string_equal(revoke_reason_name(i), names[i]);
	}
	assert_int_equal(revoke_reason_parse(NULL, &r), 0);
	assert_int_equal(r, 0);
	assert_int_equal(revoke_reason_parse("", &r), 0);
	assert_int_equal(revoke_reason_parse("KeyCompromise", &r), HSMCA_E_INVALID);
	assert_int_equal(revoke_reason_parse("certificateHold", &r), HSMCA_E_INVALID);
	assert_int_equal(revoke_reason_parse("removeFromCRL", &r), HSMCA_E_INVALID);
	assert_string_equal(revoke_reason_name(7), "unknown");
	assert_string_equal(revoke_reason_name(11), "unknown");
	assert_string_equal(revoke_reason_name(10), "aACompromise");
}

static void
test_codes(void **state)
{
	char code[REVOKE_CODE_DIGITS + 1], h1[REVOKE_HASH_LEN], h2[REVOKE_HASH_LEN];
	int first[10] = { 0 }, last[10] = { 0 }, i, k, n = 20000;

	(void)state;
	for (i = 0; i < n; i++) {
		assert_int_equal(revoke_code_new(code), 0);
		assert_int_equal(strlen(code), 6);
		for (k = 0; k < 6; k++)
			assert_true(code[k] >= '0' && code[k] <= '9');
		first[code[0] - '0']++;
		last[code[5] - '0']++;
	}
	/* Expected 2000 each, standard deviation ~42: a biased or constant generator fails by far. */
	for (k = 0; k < 10; k++) {
		assert_in_range(first[k], 1700, 2300);
		assert_in_range(last[k], 1700, 2300);
	}
	assert_int_equal(revoke_code_hash("012345", h1), 0);
	assert_int_equal(revoke_code_hash("012345", h2), 0);
	assert_string_not_equal(h1, h2);               /* per-row salt */
	assert_int_equal(strlen(h1), REVOKE_HASH_LEN - 1);
	assert_null(strstr(h1, "012345"));
	assert_int_equal(revoke_code_check("012345", h1), 1);
	assert_int_equal(revoke_code_check("012345", h2), 1);
	assert_int_equal(revoke_code_check("012346", h1), 0);
	assert_int_equal(revoke_code_check("12345", h1), 0);
	assert_int_equal(revoke_code_check("0123456", h1), 0);
	assert_int_equal(revoke_code_check("01234a", h1), 0);
	assert_int_equal(revoke_code_check(NULL, h1), 0);
	h1[10] = 'Z';
	assert_int_equal(revoke_code_check("012345", h1), 0);
	assert_int_equal(revoke_code_check("012345", "v1$"), 0);
}

/* A code that is surely not the right one. */
static void
wrong_of(const char *code, char out[REVOKE_CODE_DIGITS + 1])
{
	memcpy(out, code, REVOKE_CODE_DIGITS + 1);
	out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static int64_t
revoked_at(int64_t id)
{
	char sql[120];

	snprintf(sql, sizeof(sql), "SELECT coalesce(revoked_at, 0) FROM certificates WHERE id = %lld", (long long)id);
	return rv_int(&fx, sql);
}

static void
test_flow(void **state)
{
	struct issue_result leaf = { 0 };
	char code[REVOKE_CODE_DIGITS + 1], code2[REVOKE_CODE_DIGITS + 1], wrong[REVOKE_CODE_DIGITS + 1];
	char before[200], after[200], sql[200];
	int64_t exp, now, alice, bob, crl_no = -1;
	struct db_cert *c = NULL;
	int i;

	(void)state;
	alice = rv_user(&fx, "alice");
	bob = rv_user(&fx, "bob");
	rv_issue(&fx, "rev-inter", key, "flow.example", &leaf);

	now = db_now_ms();
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, alice, "user:alice", "192.0.2.7", code, &exp), 0);
	assert_int_equal(strlen(code), 6);
	assert_in_range(exp, now + REVOKE_CODE_TTL_MS - 1000, now + REVOKE_CODE_TTL_MS + 5000);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM audit WHERE event = 'certificate.revoke.requested'"), 1);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM revocation_codes"), 1);
	/* stored hashed, never in clear */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM revocation_codes WHERE instr(code_hash, '%s') > 0", code);
	assert_int_equal(rv_int(&fx, sql), 0);

	/* Wrong code: 422 and nothing changes but the counter. */
	ca_fx_counts(&fx, before, sizeof(before));
	wrong_of(code, wrong);
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, wrong, 1, NULL),
	    HSMCA_E_POLICY);
	assert_non_null(strstr(err_msg(HSMCA_E_POLICY), "4 tries left"));
	assert_int_equal(rv_int(&fx, "SELECT attempts FROM revocation_codes"), 1);
	/* Right code, wrong user (another user, or the CLI): refused too. */
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, bob, "user:bob", NULL, code, 1, NULL),
	    HSMCA_E_POLICY);
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, 0, "cli", NULL, code, 1, NULL), HSMCA_E_POLICY);
	ca_fx_counts(&fx, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(revoked_at(leaf.certificate_id), 0);
	/* Four more wrong tries void it: then even the right code is refused. */
	for (i = 0; i < 4; i++)
		assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, wrong, 1,
		    NULL), HSMCA_E_POLICY);
	assert_non_null(strstr(err_msg(HSMCA_E_POLICY), "void"));
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, 1, NULL),
	    HSMCA_E_POLICY);
	assert_int_equal(revoked_at(leaf.certificate_id), 0);

	/* A new request supersedes the previous code. */
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, &exp), 0);
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code2, &exp), 0);
	if (strcmp(code, code2) != 0)
		assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, 1,
		    NULL), HSMCA_E_POLICY);
	/* Expired: refused. */
	rv_exec(&fx, "UPDATE revocation_codes SET expires_at = expires_at - 600000 WHERE used_at IS NULL");
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code2, 1, NULL),
	    HSMCA_E_POLICY);
	assert_int_equal(revoked_at(leaf.certificate_id), 0);
	/* Invalid reason. */
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code2, 6, NULL),
	    HSMCA_E_INVALID);

	/* The real thing. */
	now = db_now_ms();
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, &exp), 0);
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", "192.0.2.7", code,
	    REVOKE_REASON_KEY_COMPROMISE, &crl_no), 0);
	assert_true(crl_no >= 1);
	assert_int_equal(db_certs_get_by_id(fx.ctx->db, leaf.certificate_id, &c), 0);
	assert_in_range(c->revoked_at_ms, now - 1000, now + 60000);
	assert_int_equal(c->revocation_reason, REVOKE_REASON_KEY_COMPROMISE);
	assert_string_equal(db_cert_status(c, db_now_ms()), "revoked");
	db_cert_free(c);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM audit WHERE event = 'certificate.revoke.confirmed' "
	    "AND details LIKE '%keyCompromise%'"), 1);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM audit WHERE event = 'crl.published'"), 1);
	snprintf(sql, sizeof(sql), "SELECT entry_count FROM crls WHERE ca_id = %lld ORDER BY number DESC LIMIT 1",
	    (long long)inter->id);
	assert_int_equal(rv_int(&fx, sql), 1);
	{
		int64_t tmp;

		assert_int_equal(audit_verify(fx.ctx->db, &tmp), 0);
		assert_int_equal(tmp, 0);
	}
	/* Permanent: the same code again, or a new request -> 409. */
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, 1, NULL),
	    HSMCA_E_CONFLICT);
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, alice, "user:alice", NULL, code, &exp),
	    HSMCA_E_CONFLICT);
	assert_int_equal(revoke_request(fx.ctx, 999999, alice, "user:alice", NULL, code, &exp), HSMCA_E_NOTFOUND);
	issue_result_free(&leaf);
}

/* The code works once: with the certificate revoked by it, the row is used. */
static void
test_code_used_once(void **state)
{
	struct issue_result leaf = { 0 };
	char code[REVOKE_CODE_DIGITS + 1], sql[160];
	int64_t exp;

	(void)state;
	rv_issue(&fx, "rev-inter", key, "once.example", &leaf);
	assert_int_equal(revoke_request(fx.ctx, leaf.certificate_id, 0, "cli", NULL, code, &exp), 0);
	assert_int_equal(revoke_confirm(fx.ctx, leaf.certificate_id, 0, "cli", NULL, code, 0, NULL), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM revocation_codes WHERE certificate_id = %lld AND "
	    "used_at IS NOT NULL AND reason = 0", (long long)leaf.certificate_id);
	assert_int_equal(rv_int(&fx, sql), 1);
	issue_result_free(&leaf);
}

/* Revoking the intermediate's certificate puts it on the ROOT's CRL. */
static void
test_intermediate_on_parent_crl(void **state)
{
	struct db_crl *crl = NULL;
	const unsigned char *p;
	X509_CRL *x = NULL;
	X509 *ic = NULL;
	X509_REVOKED *rev = NULL;
	char sql[200];
	int64_t cert_id;

	(void)state;
	snprintf(sql, sizeof(sql), "SELECT id FROM certificates WHERE ca_id = %lld AND fingerprint_sha256 = '%s'",
	    (long long)root->id, inter->fingerprint_sha256);
	cert_id = rv_int(&fx, sql);
	assert_int_equal(rv_revoke(&fx, cert_id, REVOKE_REASON_CA_COMPROMISE, NULL), 0);
	assert_int_equal(db_crls_latest(fx.ctx->db, root->id, 1, &crl), 0);
	p = crl->der.data;
	assert_non_null(x = d2i_X509_CRL(NULL, &p, (long)crl->der.len));
	p = inter->cert_der.data;
	assert_non_null(ic = d2i_X509(NULL, &p, (long)inter->cert_der.len));
	assert_int_equal(X509_CRL_get0_by_serial(x, &rev, X509_get_serialNumber(ic)), 1);
	X509_free(ic);
	X509_CRL_free(x);
	db_crl_free(crl);
}

/* Whether the newest CRL of ca_id lists the certificate's serial. */
static int
on_latest_crl(int64_t ca_id, const struct issue_result *leaf)
{
	struct db_crl *crl = NULL;
	const unsigned char *p;
	X509_CRL *x = NULL;
	X509_REVOKED *rev = NULL;
	X509 *c = NULL;
	int on;

	assert_int_equal(db_crls_latest(fx.ctx->db, ca_id, 1, &crl), 0);
	p = crl->der.data;
	assert_non_null(x = d2i_X509_CRL(NULL, &p, (long)crl->der.len));
	p = leaf->cert_der.data;
	assert_non_null(c = d2i_X509(NULL, &p, (long)leaf->cert_der.len));
	on = X509_CRL_get0_by_serial(x, &rev, X509_get_serialNumber(c)) == 1;
	X509_free(c);
	X509_CRL_free(x);
	db_crl_free(crl);
	return on;
}

/* Burst batching (issue #4): a revocation publishes at once only when the CA's newest CRL is
 * older than crl_batch_seconds; otherwise the CA stays due and the scheduler publishes it once
 * the window has passed. */
static void
test_burst_batched(void **state)
{
	struct issue_result a, b;
	struct scheduler_pass pass;
	int64_t crl_no = -1, *due = NULL, n_before;
	size_t n_due = 0, i;
	int saved = fx.ctx->cfg.crl_batch_seconds, is_due = 0;
	char sql[200];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	fx.ctx->cfg.crl_batch_seconds = 2;
	rv_issue(&fx, "rev-inter", key, "burst-a.example", &a);
	rv_issue(&fx, "rev-inter", key, "burst-b.example", &b);
	/* The CA's CRLs are old: the first revocation of the burst publishes at once. */
	snprintf(sql, sizeof(sql), "UPDATE crls SET created_at = created_at - 10000 WHERE ca_id = %lld",
	    (long long)inter->id);
	rv_exec(&fx, sql);
	assert_int_equal(rv_revoke(&fx, a.certificate_id, REVOKE_REASON_SUPERSEDED, &crl_no), 0);
	assert_true(crl_no >= 1);
	assert_true(on_latest_crl(inter->id, &a));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM crls WHERE ca_id = %lld", (long long)inter->id);
	n_before = rv_int(&fx, sql);

	/* The second, inside the window: revoked at once, no new CRL, the CA left due. */
	crl_no = -1;
	assert_int_equal(rv_revoke(&fx, b.certificate_id, REVOKE_REASON_SUPERSEDED, &crl_no), 0);
	assert_int_equal(crl_no, 0);
	assert_int_equal(rv_int(&fx, sql), n_before);
	assert_false(on_latest_crl(inter->id, &b));
	assert_int_equal(db_crls_due(fx.ctx->db, db_now_ms(), &due, &n_due), 0);
	for (i = 0; i < n_due; i++)
		is_due |= due[i] == inter->id;
	free(due);
	assert_true(is_due);

	/* Still inside the window, the scheduler defers it; past the window it publishes it. */
	assert_int_equal(scheduler_run_once(fx.ctx, db_now_ms(), 0, &pass), 0);
	assert_int_equal(rv_int(&fx, sql), n_before);
	assert_int_equal(scheduler_run_once(fx.ctx, db_now_ms() + 2000 + SCHEDULER_TICK_MS, 0, &pass), 0);
	assert_true(pass.crls_published >= 1);
	assert_int_equal(rv_int(&fx, sql), n_before + 1);
	assert_true(on_latest_crl(inter->id, &a));
	assert_true(on_latest_crl(inter->id, &b));

	fx.ctx->cfg.crl_batch_seconds = saved;
	issue_result_free(&a);
	issue_result_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_code_used_once),
		cmocka_unit_test(test_intermediate_on_parent_crl),
		cmocka_unit_test(test_burst_batched),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
