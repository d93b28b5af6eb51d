/*
 * test_crl.c: CRL publication on a real token and database. Root (ec-384) -> intermediate
 * (rsa-2048) -> leaves. The CRL verifies with the CA key (OpenSSL API and `openssl crl -verify`),
 * numbers are monotonic, fields and extensions are right, `openssl verify -crl_check` and
 * X509_verify_cert with X509_V_FLAG_CRL_CHECK reject the revoked leaf and accept the other; the
 * due mark, the compare-and-set store, DER pruning, PEM output and a bulk of 5000 entries; after a
 * rollover, one CRL per key (signed by it, listing what it issued) while that key has unexpired
 * certificates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/err.h>

#include "crl.h"
#include "db_crls.h"
#include "db_revocation.h"
#include "revoke_testutil.h"

static struct ca_fx fx;
static struct db_ca *root, *inter;
static EVP_PKEY *key;
static struct issue_result good, bad;

static int
group_setup(void **state)
{
	struct ca_create_req r = { .name = "CRL Root", .key_spec = "ec-384", .pathlen = -1 };
	struct ca_create_req i = { .name = "CRL Inter", .key_spec = "rsa-2048", .parent_slug = "crl-root",
		.pathlen = -1 };

	(void)state;
	if (ca_fx_open(&fx) != 0 || ca_create_root(fx.ctx, &r, &root) != 0 ||
	    ca_create_intermediate(fx.ctx, &i, &inter) != 0) {
		fprintf(stderr, "setup: %s\n", err_msg(-1));
		return -1;
	}
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return -1;
	rv_issue(&fx, "crl-inter", key, "good.example", &good);
	rv_issue(&fx, "crl-inter", key, "bad.example", &bad);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	issue_result_free(&good);
	issue_result_free(&bad);
	EVP_PKEY_free(key);
	db_ca_free(inter);
	db_ca_free(root);
	ca_fx_close(&fx);
	return 0;
}

static X509 *
cert_of(const struct buf *der)
{
	const unsigned char *p = der->data;
	X509 *x = d2i_X509(NULL, &p, (long)der->len);

	assert_non_null(x);
	return x;
}

static X509_CRL *
latest(const struct db_ca *ca, struct buf *der_out)
{
	struct db_crl *c = NULL;
	const unsigned char *p;
	X509_CRL *x;

	assert_int_equal(crl_latest(fx.ctx, ca->slug, &c), 0);
	p = c->der.data;
	x = d2i_X509_CRL(NULL, &p, (long)c->der.len);
	assert_non_null(x);
	assert_ptr_equal(p, c->der.data + c->der.len);
	if (der_out != NULL)
		assert_int_equal(buf_set(der_out, c->der.data, c->der.len), 0);
	db_crl_free(c);
	return x;
}

static long
crl_number(X509_CRL *x)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(x, NID_crl_number, NULL, NULL);
	long v;

	assert_non_null(n);
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static void
test_empty_and_monotonic(void **state)
{
	struct crl_info a, b;
	X509_CRL *x;
	X509 *ca;
	AUTHORITY_KEYID *akid;
	int i;

	(void)state;
	assert_int_equal(crl_publish(fx.ctx, root, "test", &a), 0);
	assert_int_equal(crl_publish(fx.ctx, root, "test", &b), 0);
	assert_int_equal(b.number, a.number + 1);
	assert_int_equal(b.entries, 0);
	assert_int_equal(b.next_update_ms - b.this_update_ms, (int64_t)fx.ctx->cfg.crl_validity_days * 86400000);
	x = latest(root, NULL);
	ca = cert_of(&root->cert_der);
	assert_int_equal(X509_CRL_verify(x, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_CRL_get_version(x), X509_CRL_VERSION_2);
	assert_int_equal(crl_number(x), b.number);
	assert_null(X509_CRL_get_REVOKED(x));
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(x), X509_get_subject_name(ca)), 0);
	akid = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(akid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(ca)), 0);
	AUTHORITY_KEYID_free(akid);
	assert_int_equal(X509_CRL_get_signature_nid(x), NID_ecdsa_with_SHA384);
	X509_CRL_free(x);
	X509_free(ca);
	/* cas.crl_number follows */
	assert_int_equal(rv_int(&fx, "SELECT crl_number FROM cas WHERE slug = 'crl-root'"), b.number);
	for (i = 0; i < 12; i++)
		assert_int_equal(crl_publish(fx.ctx, root, "test", NULL), 0);
	/* history kept, only the newest DB_CRLS_KEEP_DER with their DER */
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE a.slug = 'crl-root'"), 14);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE "
	    "a.slug = 'crl-root' AND length(c.der) > 0"), DB_CRLS_KEEP_DER);
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM audit WHERE event = 'crl.published' AND object = 'crl-root'"), 14);
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_revoked_leaf_rejected(void **state)
{
	struct buf der = { 0 }, pem = { 0 };
	char crlpath[400], pempath[400], chain[400], leafg[400], leafb[400], cmd[2400];
	X509_CRL *x;
	X509 *ca, *root_c, *lg, *lb;
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *reason;
	int64_t n;
	int i;

	(void)state;
	assert_int_equal(rv_revoke(&fx, bad.certificate_id, REVOKE_REASON_SUPERSEDED, &n), 0);
	assert_true(n >= 1);
	x = latest(inter, &der);
	assert_int_equal(crl_number(x), n);
	ca = cert_of(&inter->cert_der);
	root_c = cert_of(&root->cert_der);
	lg = cert_of(&good.cert_der);
	lb = cert_of(&bad.cert_der);
	assert_int_equal(X509_CRL_verify(x, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_CRL_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)), 1);
	assert_int_equal(X509_CRL_get0_by_serial(x, &rev, X509_get_serialNumber(lb)), 1);
	reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	assert_non_null(reason);
	assert_int_equal(ASN1_ENUMERATED_get(reason), REVOKE_REASON_SUPERSEDED);
	ASN1_ENUMERATED_free(reason);
	assert_int_equal(X509_CRL_get0_by_serial(x, &rev, X509_get_serialNumber(lg)), 0);

	for (i = 0; i < 2; i++) {
		X509_STORE *store = X509_STORE_new();
		X509_STORE_CTX *sc = X509_STORE_CTX_new();
		STACK_OF(X509) *untrusted = sk_X509_new_null();

		sk_X509_push(untrusted, ca);
		X509_STORE_add_cert(store, root_c);
		X509_STORE_add_crl(store, x);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
		assert_int_equal(X509_STORE_CTX_init(sc, store, i == 0 ? lb : lg, untrusted), 1);
		if (i == 0) {
			assert_int_equal(X509_verify_cert(sc), 0);
			assert_int_equal(X509_STORE_CTX_get_error(sc), X509_V_ERR_CERT_REVOKED);
		} else {
			assert_int_equal(X509_verify_cert(sc), 1);
		}
		X509_STORE_CTX_free(sc);
		X509_STORE_free(store);
		sk_X509_free(untrusted);
	}

	/* The openssl command line agrees. */
	rv_write(&fx, "inter.crl", der.data, der.len, crlpath, sizeof(crlpath));
	assert_int_equal(crl_pem(&der, &pem), 0);
	assert_memory_equal(pem.data, "-----BEGIN X509 CRL-----", 24);
	rv_write(&fx, "inter.crl.pem", pem.data, pem.len, pempath, sizeof(pempath));
	snprintf(chain, sizeof(chain), "%s/chain.pem", fx.dir);
	rv_append_pem(&inter->cert_der, chain);
	rv_append_pem(&root->cert_der, chain);
	snprintf(leafg, sizeof(leafg), "%s/good.pem", fx.dir);
	rv_append_pem(&good.cert_der, leafg);
	snprintf(leafb, sizeof(leafb), "%s/bad.pem", fx.dir);
	rv_append_pem(&bad.cert_der, leafb);
	snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s -noout -verify -CAfile %s 2>/dev/null", crlpath, chain);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl crl -in %s -noout -verify -CAfile %s 2>/dev/null", pempath, chain);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile %s -CRLfile %s %s >/dev/null 2>&1", chain, pempath, leafb);
	assert_int_not_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile %s -CRLfile %s %s 2>&1 | grep -q 'certificate revoked'",
	    chain, pempath, leafb);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile %s -CRLfile %s %s >/dev/null 2>&1", chain, pempath, leafg);
	assert_int_equal(run(cmd), 0);
	/* and the root's CRL verifies against the root */
	X509_CRL_free(x);
	buf_free(&der);
	buf_free(&pem);
	X509_free(ca);
	X509_free(root_c);
	X509_free(lg);
	X509_free(lb);
}

static void
test_due_and_cas(void **state)
{
	struct db_crls_ca_state st;
	struct db_crl row;
	int64_t *ids = NULL, id;
	size_t n = 0, i, published;
	int still, found = 0;

	(void)state;
	assert_int_equal(crl_publish(fx.ctx, inter, "test", NULL), 0);
	assert_int_equal(crl_publish(fx.ctx, root, "test", NULL), 0);
	assert_int_equal(db_crls_due(fx.ctx->db, db_now_ms(), &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	/* A revocation's mark makes the CA due; the scheduler entry point publishes it. */
	assert_int_equal(db_begin(fx.ctx->db), 0);
	assert_int_equal(crl_mark_dirty(fx.ctx, inter->id), 0);
	assert_int_equal(db_commit(fx.ctx->db), 0);
	assert_int_equal(db_crls_due(fx.ctx->db, db_now_ms(), &ids, &n), 0);
	for (i = 0; i < n; i++)
		found |= ids[i] == inter->id;
	assert_true(found);
	free(ids);
	assert_int_equal(crl_publish_due(fx.ctx, db_now_ms(), &published), 0);
	assert_int_equal(published, 1);
	assert_int_equal(db_crls_due(fx.ctx->db, db_now_ms(), &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	/* Everything is due again after half the validity. */
	assert_int_equal(db_crls_due(fx.ctx->db, db_now_ms() + (int64_t)fx.ctx->cfg.crl_validity_days * 86400000 / 2 + 60000,
	    &ids, &n), 0);
	assert_int_equal(n, 2);
	free(ids);

	/* Compare-and-set: a stale number is refused; a due mark changed meanwhile survives. */
	assert_int_equal(db_crls_ca_state(fx.ctx->db, inter->id, &st), 0);
	memset(&row, 0, sizeof(row));
	row.ca_id = inter->id;
	row.number = st.crl_number;
	row.this_update_ms = 1000;
	row.next_update_ms = 2000;
	assert_int_equal(buf_set(&row.der, "x", 1), 0);
	assert_int_equal(db_begin(fx.ctx->db), 0);
	assert_int_equal(db_crls_store(fx.ctx->db, st.crl_number - 1, &row, 1, st.due_ms, st.has_due, 5, &id, &still),
	    HSMCA_E_CONFLICT);
	db_rollback(fx.ctx->db);
	assert_int_equal(db_begin(fx.ctx->db), 0);
	assert_int_equal(db_revocation_mark_crl_due(fx.ctx->db, inter->id, db_now_ms()), 0);
	row.number = st.crl_number + 1;
	assert_int_equal(db_crls_store(fx.ctx->db, st.crl_number, &row, 1, st.due_ms, st.has_due, 5, &id, &still), 0);
	assert_int_equal(still, 1);
	db_rollback(fx.ctx->db);
	buf_free(&row.der);
	/* Marking twice within one millisecond still changes the value. */
	assert_int_equal(db_begin(fx.ctx->db), 0);
	assert_int_equal(db_revocation_mark_crl_due(fx.ctx->db, inter->id, 5000), 0);
	assert_int_equal(db_crls_ca_state(fx.ctx->db, inter->id, &st), 0);
	assert_int_equal(db_revocation_mark_crl_due(fx.ctx->db, inter->id, 5000), 0);
	{
		struct db_crls_ca_state st2;

		assert_int_equal(db_crls_ca_state(fx.ctx->db, inter->id, &st2), 0);
		assert_int_not_equal(st2.due_ms, st.due_ms);
	}
	db_rollback(fx.ctx->db);
}

static void
test_bulk(void **state)
{
	char sql[600];
	struct crl_info info;
	X509_CRL *x;
	X509 *ca;
	int64_t before;

	(void)state;
	before = rv_int(&fx, "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL AND ca_id = "
	    "(SELECT id FROM cas WHERE slug = 'crl-inter')");
	snprintf(sql, sizeof(sql),
	    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) "
	    "INSERT INTO certificates (ca_id, serial, subject, issuer, not_before, not_after, key_algorithm, digest, "
	    "fingerprint_sha256, source, revoked_at, revocation_reason, der, created_at) "
	    "SELECT %lld, printf('7%%031X', i), 'CN=x', 'CN=y', 0, 1, 'ec-256', 'sha256', printf('bulk%%060d', i), "
	    "'managed', 1700000000000 + i * 1000, i %% 6, x'00', 0 FROM s", (long long)inter->id);
	rv_exec(&fx, sql);
	assert_int_equal(crl_publish(fx.ctx, inter, "test", &info), 0);
	assert_int_equal(info.entries, (uint64_t)before + 5000);
	x = latest(inter, NULL);
	ca = cert_of(&inter->cert_der);
	assert_int_equal(X509_CRL_verify(x, X509_get0_pubkey(ca)), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)), (int)before + 5000);
	X509_CRL_free(x);
	X509_free(ca);
	assert_int_equal(crl_publish_slug(fx.ctx, "no-such-ca", "test", NULL), HSMCA_E_NOTFOUND);
}

/* The newest CRL of key generation gen of ca, decoded. */
static X509_CRL *
latest_gen(const struct db_ca *ca, int64_t gen, int64_t *id)
{
	struct db_crl *c = NULL;
	const unsigned char *p;
	X509_CRL *x;

	assert_int_equal(db_crls_latest_gen(fx.ctx->db, ca->id, gen, 1, &c), 0);
	assert_int_equal(c->key_gen, gen);
	p = c->der.data;
	assert_non_null(x = d2i_X509_CRL(NULL, &p, (long)c->der.len));
	*id = c->id;
	db_crl_free(c);
	return x;
}

static int
lists(X509_CRL *x, const char *serial_hex)
{
	X509_REVOKED *r = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	int found;

	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	assert_non_null(sn = BN_to_ASN1_INTEGER(bn, NULL));
	found = X509_CRL_get0_by_serial(x, &r, sn) == 1;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return found;
}

/*
 * After a rollover each key keeps its own CRL: signed by it, listing the revoked certificates it
 * issued, numbered from the CA's one sequence (so each key's numbers increase). A retired key
 * whose certificates have all expired publishes no more, and does not keep the CA due.
 */
static void
test_rolled_over_key(void **state)
{
	struct ca_create_req r = { .name = "CRL Roll", .key_spec = "ec-256", .pathlen = -1 };
	struct db_ca *ca = NULL, *rolled = NULL;
	struct issue_result old_leaf, new_leaf;
	struct crl_info info;
	X509 *old_ca, *new_ca;
	X509_CRL *g1, *g2;
	int64_t id1, id2, id1b, n_g1;
	char sql[200];

	(void)state;
	assert_int_equal(ca_create_root(fx.ctx, &r, &ca), 0);
	rv_issue(&fx, "crl-roll", key, "old.example", &old_leaf);
	assert_int_equal(crl_publish(fx.ctx, ca, "test", NULL), 0);
	rv_roll(&fx, ca, &rolled);
	rv_issue(&fx, "crl-roll", key, "new.example", &new_leaf);
	assert_int_equal(rv_revoke(&fx, old_leaf.certificate_id, REVOKE_REASON_KEY_COMPROMISE, NULL), 0);
	assert_int_equal(rv_revoke(&fx, new_leaf.certificate_id, REVOKE_REASON_SUPERSEDED, NULL), 0);
	assert_int_equal(crl_publish(fx.ctx, rolled, "test", &info), 0);
	old_ca = cert_of(&ca->cert_der);
	new_ca = cert_of(&rolled->cert_der);

	g1 = latest_gen(rolled, 1, &id1);
	g2 = latest_gen(rolled, 2, &id2);
	assert_int_equal(info.crl_id, id2);
	assert_int_equal(X509_CRL_verify(g1, X509_get0_pubkey(old_ca)), 1);
	assert_int_not_equal(X509_CRL_verify(g1, X509_get0_pubkey(new_ca)), 1);
	assert_int_equal(X509_CRL_verify(g2, X509_get0_pubkey(new_ca)), 1);
	ERR_clear_error();
	assert_true(lists(g1, old_leaf.serial));
	assert_false(lists(g1, new_leaf.serial));
	assert_true(lists(g2, new_leaf.serial));
	assert_false(lists(g2, old_leaf.serial));
	assert_true(crl_number(g2) > crl_number(g1));
	/* The CA is not due now: every key's CRL is fresh. */
	snprintf(sql, sizeof(sql), "SELECT crl_next_update > %lld FROM cas WHERE id = %lld", (long long)db_now_ms(),
	    (long long)rolled->id);
	assert_int_equal(rv_int(&fx, sql), 1);
	X509_CRL_free(g1);
	X509_CRL_free(g2);

	/* Nothing changed for the old key: only the current CRL is made again. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM crls WHERE ca_id = %lld AND key_gen = 1", (long long)rolled->id);
	n_g1 = rv_int(&fx, sql);
	assert_int_equal(crl_publish(fx.ctx, rolled, "test", NULL), 0);
	assert_int_equal(rv_int(&fx, sql), n_g1);
	/* The old key gone from the token while its CRL is due: the current CRL is still published,
	 * the old one kept, and the CA is due again in CRL_RETRY_MS (not at once, not in days). */
	assert_int_equal(tok_delete_key(fx.ctx->tok, ca->keyref), 0);
	snprintf(sql, sizeof(sql), "UPDATE crls SET this_update = 0, next_update = 1000 WHERE id = %lld", (long long)id1);
	rv_exec(&fx, sql);
	assert_int_equal(crl_publish(fx.ctx, rolled, "test", NULL), 0);
	X509_CRL_free(latest_gen(rolled, 1, &id1b));
	assert_int_equal(id1b, id1);
	snprintf(sql, sizeof(sql), "SELECT crl_next_update BETWEEN %lld AND %lld FROM cas WHERE id = %lld",
	    (long long)db_now_ms() + 9 * 60 * 1000, (long long)db_now_ms() + 11 * 60 * 1000, (long long)rolled->id);
	assert_int_equal(rv_int(&fx, sql), 1);
	/* Every certificate of the old key expired: it publishes no more, and the CA's due time is
	 * its current CRL's own. */
	snprintf(sql, sizeof(sql), "UPDATE certificates SET not_after = 1 WHERE ca_id = %lld AND ca_key_gen = 1",
	    (long long)rolled->id);
	rv_exec(&fx, sql);
	assert_int_equal(crl_publish(fx.ctx, rolled, "test", NULL), 0);
	g1 = latest_gen(rolled, 1, &id1b);
	assert_int_equal(id1b, id1);
	snprintf(sql, sizeof(sql), "SELECT crl_next_update > %lld FROM cas WHERE id = %lld", (long long)db_now_ms(),
	    (long long)rolled->id);
	assert_int_equal(rv_int(&fx, sql), 1);

	X509_CRL_free(g1);
	X509_free(old_ca);
	X509_free(new_ca);
	issue_result_free(&old_leaf);
	issue_result_free(&new_leaf);
	db_ca_free(rolled);
	db_ca_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_monotonic),
		cmocka_unit_test(test_revoked_leaf_rejected),
		cmocka_unit_test(test_due_and_cas),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_rolled_over_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
