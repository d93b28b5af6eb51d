/* test_ca_rollover.c: ca_rollover.c with a real SoftHSM token and database: the next certificate
 * of a root and of an intermediate (same subject, new key, issuer, pathlen, next RA), the
 * GetNextCACert certificate list, 409 while pending, cancel (keys off the token, intermediate's
 * next certificate revoked), activation (history, RA switch), and failures after the keys were
 * made (a database that refuses the write) that leave neither rows nor keys behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_rollover.h"
#include "ca_testutil.h"
#include "revoke_testutil.h"
#include "db_certs.h"
#include "db_scep.h"
#include "ra.h"
#include "slug.h"
#include "x509_build.h"

static struct ca_fx fx;

static int
group_setup(void **state)
{
	(void)state;
	return ca_fx_open(&fx);
}

static int
group_teardown(void **state)
{
	(void)state;
	ca_fx_close(&fx);
	return 0;
}

static X509 *
parse(const struct buf *der)
{
	X509 *x = NULL;

	assert_int_equal(x509b_parse_cert(der->data, der->len, &x), 0);
	return x;
}

static struct db_ca *
make_ca(const char *name, const char *parent, const char *key)
{
	struct ca_create_req req = { .name = name, .key_spec = key, .parent_slug = parent, .pathlen = -1,
		.actor = "test" };
	struct db_ca *ca = NULL;
	int rc = parent == NULL ? ca_create_root(fx.ctx, &req, &ca) : ca_create_intermediate(fx.ctx, &req, &ca);

	if (rc != 0)
		fail_msg("create %s: %s", name, err_msg(rc));
	return ca;
}

static struct db_ca *
reload(const struct db_ca *ca)
{
	struct db_ca *now = NULL;

	assert_int_equal(ca_get_by_id(fx.ctx, ca->id, &now), 0);
	return now;
}

static void
exec_sql(const char *sql)
{
	assert_int_equal(sqlite3_exec(db_handle(fx.ctx->db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static int
count_in(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
count(const char *sql)
{
	return count_in(fx.ctx->db, sql);
}

static void
test_root_start_conflict_cancel(void **state)
{
	struct ca_rollover_req req = { .days = 100, .actor = "test" };
	struct db_ca *root = make_ca("Roll Root", NULL, "ec-256");
	struct db_ca_next *next = NULL;
	struct buf *certs = NULL;
	size_t n = 0, keys;
	X509 *cur, *nx, *ra;
	char counts[256], counts2[256];

	(void)state;
	keys = ca_fx_token_keys(&fx);
	assert_int_equal(ca_rollover_next_certs(fx.ctx, root, &certs, &n), HSMCA_E_NOTFOUND);
	assert_int_equal(ca_rollover_cancel(fx.ctx, root, "test", NULL), HSMCA_E_NOTFOUND);
	assert_int_equal(ca_rollover_activate(fx.ctx, root, "test", NULL, NULL), HSMCA_E_NOTFOUND);

	assert_int_equal(ca_rollover_start(fx.ctx, root, &req, &next), 0);
	assert_int_equal(ca_fx_token_keys(&fx), keys + 2);
	assert_string_equal(next->key_spec, "ec-256");   /* the CA's key type by default */
	assert_string_not_equal(next->keyref, root->keyref);
	cur = parse(&root->cert_der);
	nx = parse(&next->cert_der);
	ra = parse(&next->ra_cert_der);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(nx), X509_get_subject_name(cur)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(nx), X509_get_subject_name(cur)), 0);
	assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(nx), X509_get0_pubkey(cur)), 1);
	assert_int_equal(X509_verify(nx, X509_get0_pubkey(nx)), 1);       /* self-signed by the new key */
	assert_int_equal(X509_check_ca(nx), 1);
	assert_int_equal(X509_verify(ra, X509_get0_pubkey(nx)), 1);       /* the next RA: by the new key */
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ra)), EVP_PKEY_RSA);
	assert_true(next->not_after_ms - next->not_before_ms <= 100LL * 86400000 + 600000);
	/* A root's next certificate is not in any inventory. */
	assert_int_equal(count("SELECT count(*) FROM certificates WHERE serial IN (SELECT serial FROM ca_next)"), 0);

	assert_int_equal(ca_rollover_next_certs(fx.ctx, root, &certs, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(certs[0].data, next->ra_cert_der.data, next->ra_cert_der.len);
	assert_memory_equal(certs[1].data, next->cert_der.data, next->cert_der.len);
	ca_chain_free(certs, n);

	/* A second start while one is pending: refused before any key is made. */
	ca_fx_counts(&fx, counts, sizeof(counts));
	assert_int_equal(ca_rollover_start(fx.ctx, root, &req, NULL), HSMCA_E_CONFLICT);
	ca_fx_counts(&fx, counts2, sizeof(counts2));
	assert_string_equal(counts, counts2);
	assert_int_equal(ca_fx_token_keys(&fx), keys + 2);

	assert_int_equal(ca_rollover_cancel(fx.ctx, root, "test", NULL), 0);
	assert_int_equal(ca_fx_token_keys(&fx), keys);
	assert_int_equal(count("SELECT count(*) FROM ca_next"), 0);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE event = 'ca.rollover.cancelled'"), 1);
	X509_free(ra);
	X509_free(nx);
	X509_free(cur);
	db_ca_next_free(next);
	db_ca_free(root);
}

static void
test_intermediate_activate(void **state)
{
	struct ca_rollover_req req = { .key_spec = "rsa-3072", .actor = "test" };
	struct db_ca *root = make_ca("Act Root", NULL, "ec-384"), *sub = make_ca("Act Sub", "act-root", "rsa-2048");
	struct db_ca *now = NULL;
	struct db_ca_next *next = NULL;
	struct db_ca_history *hist = NULL;
	struct db_scep_ca scep;
	struct ra_info old_ra = { 0 };
	struct buf *certs = NULL;
	size_t n = 0, nh = 0;
	X509 *rootx, *nx, *cur;
	int64_t bad = -1;

	(void)state;
	assert_int_equal(ra_ensure(fx.ctx, sub, &old_ra), 0);
	assert_int_equal(ca_rollover_start(fx.ctx, sub, &req, &next), 0);
	rootx = parse(&root->cert_der);
	cur = parse(&sub->cert_der);
	nx = parse(&next->cert_der);
	assert_int_equal(X509_verify(nx, X509_get0_pubkey(rootx)), 1);   /* signed by the parent's key */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(nx), X509_get_subject_name(cur)), 0);
	assert_int_equal(X509_get_pathlen(nx), X509_get_pathlen(cur));
	assert_string_equal(next->key_spec, "rsa-3072");
	assert_true(next->not_after_ms <= root->not_after_ms);
	/* The parent's inventory holds it. */
	assert_int_equal(count("SELECT count(*) FROM certificates WHERE profile = 'subca' AND serial = "
	    "(SELECT serial FROM ca_next)"), 1);
	assert_int_equal(ca_rollover_next_certs(fx.ctx, sub, &certs, &n), 0);
	assert_int_equal(n, 3);   /* next RA, next CA, root */
	assert_memory_equal(certs[2].data, root->cert_der.data, root->cert_der.len);
	ca_chain_free(certs, n);

	assert_int_equal(ca_rollover_activate(fx.ctx, sub, "test", NULL, &now), 0);
	assert_string_equal(now->fingerprint_sha256, next->fingerprint_sha256);
	assert_string_equal(now->keyref, next->keyref);
	assert_string_equal(now->key_spec, "rsa-3072");
	assert_string_equal(now->subject, sub->subject);
	assert_int_equal(db_scep_ca_get(fx.ctx->db, sub->id, &scep), 0);
	assert_string_equal(scep.ra_keyref, next->ra_keyref);
	assert_int_equal(scep.ra_cert_der.len, next->ra_cert_der.len);
	db_scep_ca_clear(&scep);
	assert_int_equal(db_cas_history_list(fx.ctx->db, sub->id, &hist, &nh), 0);
	assert_int_equal(nh, 1);
	assert_string_equal(hist[0].fingerprint_sha256, sub->fingerprint_sha256);
	assert_string_equal(hist[0].keyref, sub->keyref);
	db_ca_history_list_free(hist, nh);
	assert_int_equal(count("SELECT count(*) FROM ca_cert_history WHERE ra_keyref IS NOT NULL"), 1);
	assert_int_equal(count("SELECT count(*) FROM ca_next"), 0);
	/* Activating the old view again: nothing pending any more. */
	assert_int_equal(ca_rollover_activate(fx.ctx, sub, "test", NULL, NULL), HSMCA_E_NOTFOUND);
	assert_int_equal(audit_verify(fx.ctx->db, &bad), 0);
	assert_int_equal(bad, 0);
	ra_info_clear(&old_ra);
	X509_free(nx);
	X509_free(cur);
	X509_free(rootx);
	db_ca_free(now);
	db_ca_next_free(next);
	db_ca_free(sub);
	db_ca_free(root);
}

static void
test_cancel_revokes_intermediate(void **state)
{
	struct ca_rollover_req req = { .actor = "test" };
	struct db_ca *sub = make_ca("Cancel Sub", "act-root", "rsa-2048");
	struct db_ca_next *next = NULL;
	struct db_cert *c = NULL;

	(void)state;
	assert_int_equal(ca_rollover_start(fx.ctx, sub, &req, &next), 0);
	assert_int_equal(ca_rollover_cancel(fx.ctx, sub, "test", NULL), 0);
	assert_int_equal(db_certs_get_by_serial(fx.ctx->db, next->serial, &c), 0);
	assert_true(c->revoked_at_ms > 0);
	assert_int_equal(c->revocation_reason, 5);
	db_cert_free(c);
	db_ca_next_free(next);
	db_ca_free(sub);
}

/* The store refuses the write after both keys and certificates exist: no row, no key left. */
static void
test_failed_write_leaves_nothing(void **state)
{
	struct ca_rollover_req req = { .actor = "test" };
	struct db_ca *sub = make_ca("Fail Sub", "act-root", "rsa-2048"), *after;
	char counts[256], counts2[256];
	size_t keys;

	(void)state;
	keys = ca_fx_token_keys(&fx);
	ca_fx_counts(&fx, counts, sizeof(counts));
	exec_sql("CREATE TEMP TRIGGER t_fail BEFORE INSERT ON main.ca_next BEGIN SELECT RAISE(ABORT, 'disk full'); END");
	assert_int_equal(ca_rollover_start(fx.ctx, sub, &req, NULL), HSMCA_E_DB);
	exec_sql("DROP TRIGGER t_fail");
	ca_fx_counts(&fx, counts2, sizeof(counts2));
	assert_string_equal(counts, counts2);
	assert_int_equal(ca_fx_token_keys(&fx), keys);
	assert_int_equal(count("SELECT count(*) FROM ca_next"), 0);

	/* Activation that cannot update the CA changes nothing either: the next one stays pending. */
	assert_int_equal(ca_rollover_start(fx.ctx, sub, &req, NULL), 0);
	exec_sql("CREATE TEMP TRIGGER t_fail BEFORE UPDATE ON main.cas BEGIN SELECT RAISE(ABORT, 'disk full'); END");
	assert_int_equal(ca_rollover_activate(fx.ctx, sub, "test", NULL, NULL), HSMCA_E_DB);
	exec_sql("DROP TRIGGER t_fail");
	after = reload(sub);
	assert_string_equal(after->fingerprint_sha256, sub->fingerprint_sha256);
	assert_int_equal(count("SELECT count(*) FROM ca_next"), 1);
	assert_int_equal(count("SELECT count(*) FROM ca_cert_history WHERE ca_id IN (SELECT id FROM cas WHERE slug = 'fail-sub')"), 0);
	assert_int_equal(ca_rollover_cancel(fx.ctx, sub, "test", NULL), 0);
	assert_int_equal(ca_fx_token_keys(&fx), keys);
	db_ca_free(after);
	db_ca_free(sub);
}

static void
test_refusals(void **state)
{
	struct ca_rollover_req bad_key = { .key_spec = "dsa-1024" }, bad_days = { .days = CA_MAX_DAYS + 1 };
	struct db_ca *root = make_ca("Refuse Root", NULL, "ec-256");
	size_t keys = ca_fx_token_keys(&fx);

	(void)state;
	assert_int_equal(ca_rollover_start(fx.ctx, root, &bad_key, NULL), HSMCA_E_INVALID);
	assert_int_equal(ca_rollover_start(fx.ctx, root, &bad_days, NULL), HSMCA_E_INVALID);
	assert_int_equal(ca_fx_token_keys(&fx), keys);
	assert_int_equal(count("SELECT count(*) FROM ca_next"), 0);
	db_ca_free(root);
}

/* Migration 5 on a database that activated two rollovers before it existed: the keys are
 * numbered by retirement, certificates and CRLs by the key that was current when they were made.
 * The version-4 database is made by undoing migration 5 on a fresh one (SQLite's DROP COLUMN). */
static void
test_migration_5_numbers_old_rows(void **state)
{
	static const char *const setup[] = {
		"INSERT INTO cas (id, name, slug, kind, subject, cert_der, fingerprint_sha256, keyref, key_spec, "
		"not_before, not_after, created_at) VALUES (1, 'M', 'm', 'root', 'CN=M', x'00', 'f3', 'k3', 'ec-256', "
		"0, 9000000, 0), (2, 'N', 'n', 'root', 'CN=N', x'00', 'g1', 'l1', 'ec-256', 0, 9000000, 0)",
		"INSERT INTO ca_cert_history (ca_id, cert_der, fingerprint_sha256, keyref, key_spec, not_before, "
		"not_after, retired_at, key_gen) VALUES (1, x'00', 'f1', 'k1', 'ec-256', 0, 9000000, 1000, 7), "
		"(1, x'00', 'f2', 'k2', 'ec-256', 0, 9000000, 2000, 8)",
		"INSERT INTO certificates (ca_id, serial, subject, issuer, not_before, not_after, key_algorithm, digest, "
		"fingerprint_sha256, source, der, created_at) VALUES "
		"(1, 'A1', 'CN=a', 'CN=M', 0, 1, 'ec-256', 'sha256', 'a1', 'managed', x'00', 500), "
		"(1, 'A2', 'CN=a', 'CN=M', 0, 1, 'ec-256', 'sha256', 'a2', 'managed', x'00', 1500), "
		"(1, 'A3', 'CN=a', 'CN=M', 0, 1, 'ec-256', 'sha256', 'a3', 'managed', x'00', 2500), "
		"(2, 'B1', 'CN=b', 'CN=N', 0, 1, 'ec-256', 'sha256', 'b1', 'managed', x'00', 2500)",
		("INSERT INTO crls (ca_id, number, this_update, next_update, entry_count, der, created_at) VALUES "
		"(1, 1, 0, 1, 0, x'00', 500), (1, 2, 0, 1, 0, x'00', 1500), (1, 3, 0, 1, 0, x'00', 2500)"),
		"DROP INDEX ca_cert_history_ca_gen",
		"DROP INDEX crls_ca_gen_number",
		"ALTER TABLE cas DROP COLUMN key_gen",
		"ALTER TABLE ca_cert_history DROP COLUMN key_gen",
		"ALTER TABLE certificates DROP COLUMN ca_key_gen",
		"ALTER TABLE crls DROP COLUMN key_gen",
		"PRAGMA user_version = 4",
	};
	char path[400];
	struct db *db = NULL;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/migration5.db", fx.dir);
	assert_int_equal(db_open(path, &db), 0);
	for (i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		if (sqlite3_exec(db_handle(db), setup[i], NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("%s: %s", setup[i], sqlite3_errmsg(db_handle(db)));
	db_close(db);
	db = NULL;
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(count_in(db, "SELECT key_gen FROM cas WHERE id = 1"), 3);
	assert_int_equal(count_in(db, "SELECT key_gen FROM cas WHERE id = 2"), 1);
	assert_int_equal(count_in(db, "SELECT key_gen FROM ca_cert_history WHERE fingerprint_sha256 = 'f1'"), 1);
	assert_int_equal(count_in(db, "SELECT key_gen FROM ca_cert_history WHERE fingerprint_sha256 = 'f2'"), 2);
	assert_int_equal(count_in(db, "SELECT group_concat(ca_key_gen, '') FROM (SELECT ca_key_gen FROM "
	    "certificates ORDER BY serial)"), 1231);
	assert_int_equal(count_in(db, "SELECT group_concat(key_gen, '') FROM (SELECT key_gen FROM crls "
	    "ORDER BY number)"), 123);
	db_close(db);
}

/* The generation suffix of CRL and CA certificate URLs: canonical forms only. */
static void
test_slug_gen(void **state)
{
	static const char *const bad[] = { "acme.g1", "acme.g0", "acme.g02", "acme.g", "acme.x2", "acme.g2.g3",
		"acme.g2x", "Acme.g2", ".g2", "acme-.g2", "acme.g1234567890123456789", "" };
	char name[SLUG_GEN_MAX], slug[SLUG_MAX];
	long long gen;
	size_t i;

	(void)state;
	slug_gen_name("acme-root", 1, name);
	assert_string_equal(name, "acme-root");
	slug_gen_name("acme-root", 12, name);
	assert_string_equal(name, "acme-root.g12");
	assert_int_equal(slug_gen_parse("acme-root.g12", slug, &gen), 0);
	assert_string_equal(slug, "acme-root");
	assert_int_equal(gen, 12);
	assert_int_equal(slug_gen_parse("acme-root-g2", slug, &gen), 0);   /* a CA named "Acme Root G2" */
	assert_string_equal(slug, "acme-root-g2");
	assert_int_equal(gen, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (slug_gen_parse(bad[i], slug, &gen) != HSMCA_E_NOTFOUND)
			fail_msg("'%s' parsed", bad[i]);
}

/* After a root's activation: the intermediate it signed with the old key still chains through
 * the OLD root certificate, a new intermediate through the new one and names the root's second
 * key in its CDP and AIA; each certificate row records the key that signed it. */
static void
test_root_activation_chains(void **state)
{
	struct ca_rollover_req req = { .days = 200, .actor = "test" };
	struct db_ca *root = make_ca("Gen Root", NULL, "ec-256"), *inter = make_ca("Gen Inter", "gen-root", "ec-256");
	struct db_ca *root2 = NULL, *inter2 = NULL;
	struct buf *chain = NULL;
	size_t n = 0;
	X509 *x, *r2;
	STACK_OF(DIST_POINT) *dps;
	GENERAL_NAME *gn;
	char cdp[200];

	(void)state;
	assert_int_equal(root->key_gen, 1);
	assert_int_equal(ca_rollover_start(fx.ctx, root, &req, NULL), 0);
	assert_int_equal(ca_rollover_activate(fx.ctx, root, "test", NULL, &root2), 0);
	assert_int_equal(root2->key_gen, 2);

	assert_int_equal(ca_chain(fx.ctx, inter, &chain, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(chain[1].data, root->cert_der.data, root->cert_der.len);
	ca_chain_free(chain, n);

	inter2 = make_ca("Gen Inter Two", "gen-root", "ec-256");
	assert_int_equal(ca_chain(fx.ctx, inter2, &chain, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(chain[1].data, root2->cert_der.data, root2->cert_der.len);
	ca_chain_free(chain, n);
	x = parse(&inter2->cert_der);
	r2 = parse(&root2->cert_der);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(r2)), 1);
	snprintf(cdp, sizeof(cdp), "SELECT count(*) FROM certificates WHERE ca_id = %lld AND ca_key_gen = 2 AND "
	    "profile = 'subca'", (long long)root->id);
	assert_int_equal(count(cdp), 1);
	snprintf(cdp, sizeof(cdp), "SELECT count(*) FROM certificates WHERE ca_id = %lld AND ca_key_gen = 1 AND "
	    "profile = 'subca'", (long long)root->id);
	assert_int_equal(count(cdp), 1);
	assert_non_null(dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL));
	gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);
	assert_non_null(strstr((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
	    "/crl/gen-root.g2.crl"));
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	X509_free(r2);
	X509_free(x);
	db_ca_free(inter2);
	db_ca_free(root2);
	db_ca_free(inter);
	db_ca_free(root);
}

/* A sub-CA signed by a root's key that a rollover then retired, imported afterwards: the root is
 * still found as its parent, and its chain ends at the old root certificate. */
static void
test_import_under_retired_key(void **state)
{
	struct db_ca *root = make_ca("Imp Root", NULL, "ec-256"), *root2 = NULL, *sub = NULL;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct ca_import_req ir;
	struct issue_req req;
	struct issue_result res;
	struct buf *chain = NULL;
	unsigned char *csr;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long pem_len;
	size_t n = 0;
	int len;

	(void)state;
	assert_non_null(key);
	csr = rv_csr(key, "Imp Sub", &len);
	memset(&req, 0, sizeof(req));
	req.ca_slug = "imp-root";
	req.csr_der = csr;
	req.csr_len = (size_t)len;
	req.profile = ISSUE_PROFILE_SUBCA;
	req.days = 30;
	assert_int_equal(issue_from_csr(fx.ctx, &req, &res), 0);
	rv_roll(&fx, root, &root2);
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
	pem_len = BIO_get_mem_data(bio, &pem);
	memset(&ir, 0, sizeof(ir));
	ir.name = "Imp Sub";
	ir.cert = res.cert_der.data;
	ir.cert_len = res.cert_der.len;
	ir.key_pem = (const uint8_t *)pem;
	ir.key_pem_len = (size_t)pem_len;
	ir.actor = "test";
	if (ca_import(fx.ctx, &ir, &sub) != 0)
		fail_msg("import: %s", err_msg(-1));
	assert_int_equal(sub->parent_id, root->id);
	assert_int_equal(ca_chain(fx.ctx, sub, &chain, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(chain[1].data, root->cert_der.data, root->cert_der.len);
	ca_chain_free(chain, n);
	BIO_free(bio);
	OPENSSL_free(csr);
	issue_result_free(&res);
	EVP_PKEY_free(key);
	db_ca_free(sub);
	db_ca_free(root2);
	db_ca_free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_start_conflict_cancel),
		cmocka_unit_test(test_intermediate_activate),
		cmocka_unit_test(test_cancel_revokes_intermediate),
		cmocka_unit_test(test_failed_write_leaves_nothing),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_slug_gen),
		cmocka_unit_test(test_migration_5_numbers_old_rows),
		cmocka_unit_test(test_root_activation_chains),
		cmocka_unit_test(test_import_under_retired_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
