/* test_ca.c: ca.c with a real SoftHSM token and database: roots, intermediates (extensions,
 * validity clipping, pathlen), chains, imports (PEM, PKCS#12, keyref), and refusals that leave
 * the database and the token unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_testutil.h"
#include "db_certs.h"
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
cert_of(const struct db_ca *ca)
{
	X509 *x = NULL;

	assert_int_equal(x509b_parse_cert(ca->cert_der.data, ca->cert_der.len, &x), 0);
	return x;
}

static struct db_ca *
make_root(const char *name, const char *key, int days)
{
	struct ca_create_req req = { .name = name, .key_spec = key, .days = days, .pathlen = -1, .actor = "test" };
	struct db_ca *ca = NULL;
	int rc = ca_create_root(fx.ctx, &req, &ca);

	if (rc != 0)
		fail_msg("ca_create_root(%s): %s", name, err_msg(rc));
	return ca;
}

static struct db_ca *
make_inter(const char *name, const char *parent, const char *key, int days)
{
	struct ca_create_req req = { .name = name, .key_spec = key, .days = days, .parent_slug = parent,
		.pathlen = -1, .actor = "test" };
	struct db_ca *ca = NULL;
	int rc = ca_create_intermediate(fx.ctx, &req, &ca);

	if (rc != 0)
		fail_msg("ca_create_intermediate(%s): %s", name, err_msg(rc));
	return ca;
}

static int
ext_text_has(X509 *x, int nid, const char *want)
{
	X509_EXTENSION *ext;
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	int idx = X509_get_ext_by_NID(x, nid, -1), found = 0;

	if (idx >= 0) {
		ext = X509_get_ext(x, idx);
		X509V3_EXT_print(bio, ext, 0, 0);
		BIO_write(bio, "", 1);
		BIO_get_mem_ptr(bio, &mem);
		found = strstr(mem->data, want) != NULL;
	}
	BIO_free(bio);
	return found;
}

static void
test_root(void **state)
{
	struct db_ca *ca;
	X509 *x;
	int exportable = -1;
	int64_t bad = -1;

	(void)state;
	ca = make_root("Test Root", "ec-384", 3650);
	assert_string_equal(ca->slug, "test-root");
	assert_string_equal(ca->kind, "root");
	assert_string_equal(ca->key_spec, "ec-384");
	assert_int_equal(ca->parent_id, 0);
	assert_string_equal(ca->subject, "CN=Test Root");
	assert_non_null(strstr(ca->keyref, "pkcs11:"));
	x = cert_of(ca);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(X509_get_pathlen(x), -1);   /* root: no pathlen */
	assert_true(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	assert_true(X509_get_key_usage(x) & KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_get_ext_by_NID(x, NID_authority_key_identifier, -1), -1);
	assert_int_equal(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1), -1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, NID_basic_constraints, -1))), 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CRITICAL);   /* no unknown critical extension */
	/* ~3650 days. */
	assert_true(ca->not_after_ms - ca->not_before_ms >= 3650LL * 86400000);
	assert_true(ca->not_after_ms - ca->not_before_ms <= 3650LL * 86400000 + 600000);
	assert_int_equal(tok_key_is_exportable(fx.ctx->tok, ca->keyref, &exportable), 0);
	assert_int_equal(exportable, 0);
	assert_int_equal(audit_verify(fx.ctx->db, &bad), 0);
	assert_int_equal(bad, 0);
	X509_free(x);
	db_ca_free(ca);
}

static void
test_intermediate_and_chain(void **state)
{
	struct db_ca *root, *inter, *got = NULL;
	struct db_cert *row = NULL;
	struct buf *chain = NULL;
	size_t n = 0;
	X509 *r, *i, *c0 = NULL, *c1 = NULL;
	X509_STORE *store;
	X509_STORE_CTX *sctx;
	const ASN1_OCTET_STRING *ski;
	char serial[64];

	(void)state;
	root = make_root("Short Root", "ec-256", 10);
	inter = make_inter("Short Inter", "short-root", "rsa-2048", 1825);
	assert_string_equal(inter->kind, "intermediate");
	assert_int_equal(inter->parent_id, root->id);
	assert_string_equal(inter->key_spec, "rsa-2048");
	/* Clipped to the parent's validity. */
	assert_int_equal(inter->not_after_ms, root->not_after_ms);
	assert_true(inter->not_before_ms >= root->not_before_ms);
	r = cert_of(root);
	i = cert_of(inter);
	assert_int_equal(X509_get_pathlen(i), 0);
	assert_int_equal(X509_check_issued(r, i), X509_V_OK);
	ski = X509_get0_subject_key_id(r);
	assert_non_null(ski);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, X509_get0_authority_key_id(i)), 0);
	assert_true(ext_text_has(i, NID_crl_distribution_points, "http://localhost:8080/crl/short-root.crl"));
	assert_true(ext_text_has(i, NID_info_access, "CA Issuers - URI:http://localhost:8080/ca/short-root.crt"));
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(i)), 2048);

	/* The parent's inventory holds the intermediate. */
	assert_int_equal(x509b_serial_hex(X509_get0_serialNumber(i), serial, sizeof(serial)), 0);
	assert_int_equal(db_certs_get_by_serial(fx.ctx->db, serial, &row), 0);
	assert_int_equal(row->ca_id, root->id);
	assert_string_equal(row->profile, "subca");
	db_cert_free(row);

	assert_int_equal(ca_chain(fx.ctx, inter, &chain, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(x509b_parse_cert(chain[0].data, chain[0].len, &c0), 0);
	assert_int_equal(x509b_parse_cert(chain[1].data, chain[1].len, &c1), 0);
	assert_int_equal(X509_cmp(c0, i), 0);
	assert_int_equal(X509_cmp(c1, r), 0);
	store = X509_STORE_new();
	X509_STORE_add_cert(store, c1);
	sctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_CTX_init(sctx, store, c0, NULL), 1);
	if (X509_verify_cert(sctx) != 1)
		fail_msg("chain does not verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);

	assert_int_equal(ca_get_by_slug(fx.ctx, "short-inter", &got), 0);
	assert_int_equal(got->id, inter->id);
	db_ca_free(got);
	ca_chain_free(chain, n);
	X509_free(c0);
	X509_free(c1);
	X509_free(r);
	X509_free(i);
	db_ca_free(inter);
	db_ca_free(root);
}

static void
expect_unchanged(int rc_got, int rc_want, const char *words, const char *before, size_t keys_before)
{
	char after[256];

	if (rc_got != rc_want)
		fail_msg("rc %d (%s), wanted %d", rc_got, err_msg(rc_got), rc_want);
	if (words != NULL && strstr(err_msg(rc_got), words) == NULL)
		fail_msg("detail '%s' lacks '%s'", err_msg(rc_got), words);
	ca_fx_counts(&fx, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(ca_fx_token_keys(&fx), keys_before);
}

static void
test_refusals_change_nothing(void **state)
{
	struct ca_create_req req = { .pathlen = -1 };
	struct db_ca *ca = NULL, *leafca;
	char before[256];
	size_t keys;

	(void)state;
	leafca = make_inter("Leaf Issuing", "test-root", "ec-256", 100);
	ca_fx_counts(&fx, before, sizeof(before));
	keys = ca_fx_token_keys(&fx);

	req.name = "Test Root";                        /* name taken */
	expect_unchanged(ca_create_root(fx.ctx, &req, &ca), HSMCA_E_EXISTS, "already exists", before, keys);
	req.name = "TEST  root!";                      /* slug taken */
	expect_unchanged(ca_create_root(fx.ctx, &req, &ca), HSMCA_E_EXISTS, "test-root", before, keys);
	req.name = "!!!";
	expect_unchanged(ca_create_root(fx.ctx, &req, &ca), HSMCA_E_INVALID, "letter or digit", before, keys);
	req.name = "Other";
	req.key_spec = "dsa-1024";
	expect_unchanged(ca_create_root(fx.ctx, &req, &ca), HSMCA_E_INVALID, NULL, before, keys);
	req.key_spec = NULL;
	req.parent_slug = "no-such-ca";
	expect_unchanged(ca_create_intermediate(fx.ctx, &req, &ca), HSMCA_E_NOTFOUND, "no-such-ca", before, keys);
	req.parent_slug = "leaf-issuing";              /* pathlen 0 */
	expect_unchanged(ca_create_intermediate(fx.ctx, &req, &ca), HSMCA_E_POLICY, "pathlen", before, keys);
	assert_null(ca);
	db_ca_free(leafca);
}

/* An RSA CA certificate and key made with OpenSSL (outside the appliance, as for an import). */
static void
external_ca(const char *cn, int is_ca, EVP_PKEY **key, X509 **cert)
{
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(*key);
	*cert = X509_new();
	X509_set_version(*cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 42);
	name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(*cert, name);
	X509_gmtime_adj(X509_getm_notBefore(*cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 86400L * 1000);
	X509_set_pubkey(*cert, *key);
	X509V3_set_ctx(&v3, *cert, *cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(*cert, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(*cert, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(*cert, *key, EVP_sha256()) > 0);
}

static void
pem_of_key(EVP_PKEY *key, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;

	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
	BIO_get_mem_ptr(bio, &mem);
	assert_int_equal(buf_set(out, mem->data, mem->length), 0);
	BIO_free(bio);
}

static void
der_of_cert(X509 *x, struct buf *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	assert_int_equal(buf_set(out, der, (size_t)len), 0);
	OPENSSL_free(der);
}

static void
test_import_pem_and_mismatch(void **state)
{
	struct ca_import_req req;
	struct db_ca *ca = NULL;
	EVP_PKEY *key, *other_key, *leaf_key;
	X509 *cert, *other, *leaf;
	struct buf key_pem = { 0 }, other_pem = { 0 }, cert_der = { 0 }, leaf_der = { 0 };
	char before[256];
	size_t keys;
	int exportable = -1;

	(void)state;
	external_ca("External PEM CA", 1, &key, &cert);
	external_ca("Other CA", 1, &other_key, &other);
	external_ca("Not a CA", 0, &leaf_key, &leaf);
	pem_of_key(key, &key_pem);
	pem_of_key(other_key, &other_pem);
	der_of_cert(cert, &cert_der);
	der_of_cert(leaf, &leaf_der);

	ca_fx_counts(&fx, before, sizeof(before));
	keys = ca_fx_token_keys(&fx);
	memset(&req, 0, sizeof(req));
	req.name = "External";
	req.cert = cert_der.data;
	req.cert_len = cert_der.len;
	req.key_pem = other_pem.data;                  /* wrong key: imported, compared, deleted */
	req.key_pem_len = other_pem.len;
	expect_unchanged(ca_import(fx.ctx, &req, &ca), HSMCA_E_POLICY, "does not match", before, keys);
	req.cert = leaf_der.data;                      /* not a CA */
	req.cert_len = leaf_der.len;
	req.key_pem = (const uint8_t *)"x";
	req.key_pem_len = 1;
	expect_unchanged(ca_import(fx.ctx, &req, &ca), HSMCA_E_POLICY, "not a CA", before, keys);
	req.cert = (const uint8_t *)"garbage";
	req.cert_len = 7;
	expect_unchanged(ca_import(fx.ctx, &req, &ca), HSMCA_E_INVALID, NULL, before, keys);

	req.cert = cert_der.data;
	req.cert_len = cert_der.len;
	req.key_pem = key_pem.data;
	req.key_pem_len = key_pem.len;
	if (ca_import(fx.ctx, &req, &ca) != 0)
		fail_msg("import: %s", err_msg(-1));
	assert_string_equal(ca->kind, "imported");
	assert_string_equal(ca->slug, "external");
	assert_string_equal(ca->key_spec, "rsa-2048");
	assert_int_equal(ca->parent_id, 0);
	assert_int_equal(tok_key_is_exportable(fx.ctx->tok, ca->keyref, &exportable), 0);
	assert_int_equal(exportable, 0);
	assert_int_equal(ca_fx_token_keys(&fx), keys + 1);
	db_ca_free(ca);

	buf_free(&key_pem);
	buf_free(&other_pem);
	buf_free(&cert_der);
	buf_free(&leaf_der);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(leaf_key);
	X509_free(cert);
	X509_free(other);
	X509_free(leaf);
}

static void
test_import_pkcs12_and_keyref(void **state)
{
	struct ca_import_req req;
	struct db_ca *ca = NULL, *ca2 = NULL;
	EVP_PKEY *key;
	X509 *cert;
	PKCS12 *p12;
	unsigned char *p12_der = NULL;
	struct buf cert_der = { 0 };
	int len;

	(void)state;
	external_ca("External P12 CA", 1, &key, &cert);
	der_of_cert(cert, &cert_der);
	p12 = PKCS12_create("p12-secret", "ca", key, cert, NULL, 0, 0, 0, 0, 0);
	assert_non_null(p12);
	len = i2d_PKCS12(p12, &p12_der);
	assert_true(len > 0);

	memset(&req, 0, sizeof(req));
	req.name = "External P12";
	req.cert = cert_der.data;
	req.cert_len = cert_der.len;
	req.p12 = p12_der;
	req.p12_len = (size_t)len;
	req.p12_password = "wrong";
	assert_int_not_equal(ca_import(fx.ctx, &req, &ca), 0);
	req.p12_password = "p12-secret";
	if (ca_import(fx.ctx, &req, &ca) != 0)
		fail_msg("pkcs12 import: %s", err_msg(-1));
	assert_string_equal(ca->slug, "external-p12");

	/* The same certificate again with its key already on the token: refused as a duplicate
	 * (fingerprint), and the existing key is NOT deleted. */
	memset(&req, 0, sizeof(req));
	req.name = "Again";
	req.cert = cert_der.data;
	req.cert_len = cert_der.len;
	req.keyref = ca->keyref;
	assert_int_equal(ca_import(fx.ctx, &req, &ca2), HSMCA_E_EXISTS);
	{
		struct buf spki = { 0 };

		assert_int_equal(tok_public_key(fx.ctx->tok, ca->keyref, &spki), 0);
		buf_free(&spki);
	}
	/* A keyref whose key differs from the certificate. */
	{
		struct db_ca *root = NULL;

		assert_int_equal(ca_get_by_slug(fx.ctx, "test-root", &root), 0);
		req.keyref = root->keyref;
		req.name = "Mismatch";
		assert_int_equal(ca_import(fx.ctx, &req, &ca2), HSMCA_E_POLICY);
		assert_int_equal(ca_get_by_slug(fx.ctx, "test-root", &ca2), 0);   /* its key still works */
		db_ca_free(ca2);
		db_ca_free(root);
	}
	db_ca_free(ca);
	OPENSSL_free(p12_der);
	PKCS12_free(p12);
	buf_free(&cert_der);
	EVP_PKEY_free(key);
	X509_free(cert);
}

static void
test_list(void **state)
{
	struct db_ca **cas = NULL;
	size_t n = 0, i;
	int64_t bad = -1;

	(void)state;
	assert_int_equal(ca_list(fx.ctx, &cas, &n), 0);
	assert_true(n >= 4);
	for (i = 1; i < n; i++)
		assert_true(cas[i]->id > cas[i - 1]->id);
	db_ca_list_free(cas, n);
	assert_int_equal(audit_verify(fx.ctx->db, &bad), 0);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_intermediate_and_chain),
		cmocka_unit_test(test_refusals_change_nothing),
		cmocka_unit_test(test_import_pem_and_mismatch),
		cmocka_unit_test(test_import_pkcs12_and_keyref),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
