/*
 * test_pfx.c: PFX export of a token-generated (exportable) key on a real token and database:
 * modern and legacy PKCS#12 open with PKCS12_parse (key matches certificate, chain present,
 * friendly name = CN), with `openssl pkcs12 -info` and with Java's keytool; the password is
 * random, long and never stored; a CSR-issued certificate is refused (409) and nothing is audited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/pkcs12.h>

#include "pfx.h"
#include "revoke_testutil.h"

static struct ca_fx fx;
static struct db_ca *root, *inter;

static int
group_setup(void **state)
{
	struct ca_create_req r = { .name = "PFX Root", .key_spec = "ec-256", .pathlen = -1 };
	struct ca_create_req i = { .name = "PFX Inter", .key_spec = "ec-256", .parent_slug = "pfx-root",
		.pathlen = -1 };

	(void)state;
	if (ca_fx_open(&fx) != 0 || ca_create_root(fx.ctx, &r, &root) != 0 ||
	    ca_create_intermediate(fx.ctx, &i, &inter) != 0) {
		fprintf(stderr, "setup: %s\n", err_msg(-1));
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	db_ca_free(inter);
	db_ca_free(root);
	ca_fx_close(&fx);
	return 0;
}

static int
have(const char *tool)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void
check_pfx(const struct buf *pfx, const char *pw, const struct buf *cert_der, int legacy)
{
	const unsigned char *p = pfx->data;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)pfx->len);
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	unsigned char *der = NULL;
	char path[400], pwpath[400], cmd[1600];
	int len;

	assert_non_null(p12);
	assert_int_equal(PKCS12_verify_mac(p12, pw, -1), 1);
	assert_int_equal(PKCS12_verify_mac(p12, "wrong password!!", -1), 0);
	assert_int_equal(PKCS12_parse(p12, pw, &pkey, &cert, &ca), 1);
	assert_non_null(pkey);
	assert_non_null(cert);
	assert_int_equal(X509_check_private_key(cert, pkey), 1);
	len = i2d_X509(cert, &der);
	assert_int_equal((size_t)len, cert_der->len);
	assert_memory_equal(der, cert_der->data, cert_der->len);
	assert_non_null(X509_alias_get0(cert, NULL));
	assert_memory_equal(X509_alias_get0(cert, NULL), "pfx.example", 11);
	assert_int_equal(sk_X509_num(ca), 2);   /* intermediate and root */

	rv_write(&fx, legacy ? "legacy.pfx" : "modern.pfx", pfx->data, pfx->len, path, sizeof(path));
	rv_write(&fx, "pw", pw, strlen(pw), pwpath, sizeof(pwpath));
	snprintf(cmd, sizeof(cmd), "openssl pkcs12 -info -in %s -passin file:%s -nokeys -noout 2>&1 | grep -q '%s'",
	    path, pwpath, legacy ? "pbeWithSHA1And3-KeyTripleDES-CBC" : "PBES2, PBKDF2, AES-256-CBC");
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl pkcs12 -in %s -passin file:%s -nodes -noout", path, pwpath);
	assert_int_equal(system(cmd), 0);
	if (have("keytool")) {
		snprintf(cmd, sizeof(cmd), "keytool -list -storetype PKCS12 -keystore %s -storepass '%s' 2>&1 | "
		    "grep -qi 'PrivateKeyEntry'", path, pw);
		assert_int_equal(system(cmd), 0);
	} else {
		fprintf(stderr, "keytool not installed (apt-get install default-jre-headless): Java check skipped\n");
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
}

static void
test_export(void **state)
{
	static const char *sans[] = { "DNS:pfx.example" };
	struct issue_key_req req = { .ca_slug = "pfx-inter", .key_spec = "rsa-2048", .key_label = "pfx-leaf",
		.subject = "CN=pfx.example", .sans = sans, .n_sans = 1, .profile = ISSUE_PROFILE_SERVER,
		.days = 30, .requested_by = "test" };
	struct issue_result res = { 0 };
	struct buf pfx = { 0 };
	char *pw = NULL, *pw2 = NULL, sql[300];
	size_t i;
	int legacy;

	(void)state;
	assert_int_equal(issue_with_token_key(fx.ctx, &req, &res), 0);
	assert_non_null(res.keyref);
	for (legacy = 0; legacy < 2; legacy++) {
		assert_int_equal(pfx_export(fx.ctx, res.certificate_id, "user:alice", "192.0.2.1", legacy, &pw, &pfx), 0);
		assert_true(strlen(pw) >= 16);
		for (i = 0; pw[i] != '\0'; i++)
			assert_non_null(strchr("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", pw[i]));
		check_pfx(&pfx, pw, &res.cert_der, legacy);
		/* never stored: no row of any table holds it */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE instr(details, '%s') > 0 OR "
		    "instr(object, '%s') > 0", pw, pw);
		assert_int_equal(rv_int(&fx, sql), 0);
		buf_free(&pfx);
		assert_int_equal(pfx_export(fx.ctx, res.certificate_id, "user:alice", NULL, legacy, &pw2, &pfx), 0);
		assert_string_not_equal(pw, pw2);
		OPENSSL_clear_free(pw, strlen(pw));
		OPENSSL_clear_free(pw2, strlen(pw2));
		buf_free(&pfx);
	}
	assert_int_equal(rv_int(&fx, "SELECT count(*) FROM audit WHERE event = 'certificate.download_pfx.success'"), 4);
	issue_result_free(&res);
}

static void
test_refused(void **state)
{
	struct issue_result res = { 0 };
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct buf pfx = { 0 };
	char *pw = NULL, before[200], after[200];

	(void)state;
	rv_issue(&fx, "pfx-inter", key, "csr.example", &res);
	ca_fx_counts(&fx, before, sizeof(before));
	assert_int_equal(pfx_export(fx.ctx, res.certificate_id, "user:alice", NULL, 0, &pw, &pfx), HSMCA_E_CONFLICT);
	assert_non_null(strstr(err_msg(HSMCA_E_CONFLICT), "never held by the appliance"));
	assert_null(pw);
	assert_null(pfx.data);
	assert_int_equal(pfx_export(fx.ctx, 999999, "user:alice", NULL, 0, &pw, &pfx), HSMCA_E_NOTFOUND);
	ca_fx_counts(&fx, after, sizeof(after));
	assert_string_equal(before, after);
	issue_result_free(&res);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
