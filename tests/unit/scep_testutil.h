/*
 * scep_testutil.h: helpers shared by the SCEP unit tests (test_scep_msg, test_scep_reply,
 * test_tok_cms): fixtures, software keys and certificates, a software decrypt callback, and a
 * client-side pkiMessage builder (what a SCEP client would send), all with plain OpenSSL.
 *
 * Test-only; every function is static inline so each test links only what it uses.
 */
#ifndef HSMCA_SCEP_TESTUTIL_H
#define HSMCA_SCEP_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "err.h"
#include "scep_msg.h"

#define SCEPT_OID_MESSAGE_TYPE   "2.16.840.1.113733.1.9.2"
#define SCEPT_OID_PKI_STATUS     "2.16.840.1.113733.1.9.3"
#define SCEPT_OID_FAIL_INFO      "2.16.840.1.113733.1.9.4"
#define SCEPT_OID_SENDER_NONCE   "2.16.840.1.113733.1.9.5"
#define SCEPT_OID_RECIP_NONCE    "2.16.840.1.113733.1.9.6"
#define SCEPT_OID_TRANSACTION_ID "2.16.840.1.113733.1.9.7"

/* The README table of /work/shared/fixtures/scep. */
struct scept_fixture {
	const char *file, *cn, *cipher, *digest;
};
static const struct scept_fixture scept_fixtures[] = {
	{ "certmonger-get.der", "fixture-certmonger", "aes-256-cbc", "sha256" },
	{ "sceppeer-des-post.der", "fixture-sceppeer-des", "des-cbc", "sha1" },
	{ "sceppeer-aes128-post.der", "fixture-sceppeer-aes128", "aes-128-cbc", "sha1" },
	{ "sceppeer-aes256-post.der", "fixture-sceppeer-aes256", "aes-256-cbc", "sha1" },
	{ "sscep-3des-sha1-post.der", "fixture-sscep", "des-ede3-cbc", "sha1" },
	{ "sscep-3des-sha256-post.der", "fixture-sscep", "des-ede3-cbc", "sha256" },
	{ "sscep-3des-sha512-post.der", "fixture-sscep", "des-ede3-cbc", "sha512" },
	{ "sscep-aes-sha1-post.der", "fixture-sscep", "aes-128-cbc", "sha1" },
	{ "sscep-aes-sha256-post.der", "fixture-sscep", "aes-128-cbc", "sha256" },
	{ "sscep-aes-sha512-post.der", "fixture-sscep", "aes-128-cbc", "sha512" },
};
#define SCEPT_N_FIXTURES (sizeof(scept_fixtures) / sizeof(scept_fixtures[0]))

/* Reads fixtures/scep/<name> (HSMCA_FIXTURES set by ctest); aborts the test when missing. */
static inline void
scept_load(const char *name, struct buf *out)
{
	const char *dir = getenv("HSMCA_FIXTURES");
	char path[1024];

	snprintf(path, sizeof(path), "%s/scep/%s", dir != NULL ? dir : "/work/shared/fixtures", name);
	if (buf_read_file(path, 1 << 20, out) != 0) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		abort();
	}
}

static inline EVP_PKEY *
scept_load_key(const char *name)
{
	struct buf b = { 0 };
	BIO *bio;
	EVP_PKEY *k;

	scept_load(name, &b);
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	buf_free(&b);
	return k;
}

static inline X509 *
scept_load_cert(const char *name)
{
	struct buf b = { 0 };
	BIO *bio;
	X509 *x;

	scept_load(name, &b);
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	buf_free(&b);
	return x;
}

/* A library context with the default and legacy providers (single DES lives in legacy). One
 * per test program; free it with scept_legacy_free (providers must be unloaded first, or
 * OSSL_LIB_CTX_free leaks them). */
static OSSL_PROVIDER *scept_provs[2];

static inline OSSL_LIB_CTX *
scept_legacy_ctx(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (ctx == NULL || (scept_provs[0] = OSSL_PROVIDER_load(ctx, "default")) == NULL ||
	    (scept_provs[1] = OSSL_PROVIDER_load(ctx, "legacy")) == NULL)
		abort();
	return ctx;
}

static inline void
scept_legacy_free(OSSL_LIB_CTX *ctx)
{
	OSSL_PROVIDER_unload(scept_provs[1]);
	OSSL_PROVIDER_unload(scept_provs[0]);
	OSSL_LIB_CTX_free(ctx);
}

static inline EVP_PKEY *
scept_rsa(int bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static inline EVP_PKEY *
scept_ec(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
}

static inline int
scept_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for key with subject CN=cn, signed by issuer_key (self-signed when issuer is
 * NULL). ca != 0 makes a CA; otherwise key_usage (e.g. "digitalSignature,keyEncipherment") or
 * NULL. */
static inline X509 *
scept_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, const char *key_usage)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char serial[8];
	BIGNUM *bn;

	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_set_pubkey(x, key);
	if (ca) {
		scept_add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
		scept_add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
	} else if (key_usage != NULL) {
		scept_add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, key_usage);
	}
	scept_add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		scept_add_ext(x, issuer, NID_authority_key_identifier, "keyid");
	X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256());
	X509_NAME_free(name);
	return x;
}

static inline void
scept_der(X509 *x, struct buf *out)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	if (n <= 0 || buf_set(out, der, (size_t)n) != 0)
		abort();
	OPENSSL_free(der);
}

/* Software decrypt callback (struct scep_keyops) for a key in memory. */
struct scept_sw_key {
	EVP_PKEY *key;
	X509 *cert;
	OSSL_LIB_CTX *ctx;   /* NULL: the default context */
	int calls;
};

static inline int
scept_sw_decrypt(void *arg, const uint8_t *env, size_t env_len, struct buf *content)
{
	struct scept_sw_key *k = arg;
	CMS_ContentInfo *cms;
	const unsigned char *p = env;
	BIO *out = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = HSMCA_E_INVALID;

	k->calls++;
	cms = CMS_ContentInfo_new_ex(k->ctx, NULL);
	if (d2i_CMS_ContentInfo(&cms, &p, (long)env_len) == NULL)
		goto out;
	if (CMS_decrypt(cms, k->key, k->cert, NULL, out, CMS_BINARY) != 1)
		goto out;
	n = BIO_get_mem_data(out, &data);
	rc = buf_set(content, data, (size_t)n);
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	BIO_free(out);
	return rc;
}

/* What a client would send; fields NULL/0 are left out, to build malformed messages too. */
struct scept_req {
	const char *msg_type;       /* "19", ... */
	const char *txid;
	size_t nonce_len;           /* 16 normally */
	int dup_txid;               /* add transactionID twice */
	int nonce_as_printable;     /* wrong type for senderNonce */
	const EVP_MD *md;           /* default SHA-256 */
	const EVP_CIPHER *cipher;   /* default AES-128-CBC; ignored when raw_content */
	int raw_content;            /* sign inner directly, no envelope */
	OSSL_LIB_CTX *ctx;          /* for DES */
};

static inline int
scept_build(const struct scept_req *r, EVP_PKEY *key, X509 *signer, X509 *recipient,
    const uint8_t *inner, size_t inner_len, struct buf *out)
{
	CMS_ContentInfo *env = NULL, *cms = NULL;
	CMS_SignerInfo *si;
	STACK_OF(X509) *recips = sk_X509_new_null();
	BIO *in = NULL, *envbio = NULL;
	unsigned char *env_der = NULL, *der = NULL;
	unsigned char nonce[64];
	int n, env_n = 0, ok = 0;
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;

	RAND_bytes(nonce, sizeof(nonce));
	if (!r->raw_content) {
		sk_X509_push(recips, recipient);
		in = BIO_new_mem_buf(inner, (int)inner_len);
		env = CMS_encrypt_ex(recips, in, r->cipher != NULL ? r->cipher : EVP_aes_128_cbc(),
		    CMS_BINARY, r->ctx, NULL);
		if (env == NULL || (env_n = i2d_CMS_ContentInfo(env, &env_der)) <= 0)
			goto out;
		envbio = BIO_new_mem_buf(env_der, env_n);
	} else {
		envbio = BIO_new_mem_buf(inner, (int)inner_len);
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	si = CMS_add1_signer(cms, signer, key, r->md != NULL ? r->md : EVP_sha256(), flags);
	if (si == NULL)
		goto out;
	if (r->msg_type != NULL)
		CMS_signed_add1_attr_by_txt(si, SCEPT_OID_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING, r->msg_type, (int)strlen(r->msg_type));
	if (r->txid != NULL) {
		CMS_signed_add1_attr_by_txt(si, SCEPT_OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING, r->txid, (int)strlen(r->txid));
		if (r->dup_txid)
			CMS_signed_add1_attr_by_txt(si, SCEPT_OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING, r->txid, (int)strlen(r->txid));
	}
	if (r->nonce_len > 0)
		CMS_signed_add1_attr_by_txt(si, SCEPT_OID_SENDER_NONCE,
		    r->nonce_as_printable ? V_ASN1_PRINTABLESTRING : V_ASN1_OCTET_STRING,
		    r->nonce_as_printable ? (const void *)"0123456789abcdef" : (const void *)nonce,
		    (int)r->nonce_len);
	if (CMS_final(cms, envbio, NULL, CMS_BINARY) != 1)
		goto out;
	n = i2d_CMS_ContentInfo(cms, &der);
	if (n <= 0 || buf_set(out, der, (size_t)n) != 0)
		goto out;
	ok = 1;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	OPENSSL_free(env_der);
	BIO_free(in);
	BIO_free(envbio);
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	sk_X509_free(recips);
	return ok ? 0 : -1;
}

/* A PKCS#10 request with CN=cn and, when challenge != NULL, a challengePassword of asn1_type. */
static inline int
scept_csr(EVP_PKEY *key, const char *cn, const char *challenge, int asn1_type, struct buf *out)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	int n, ok = 0;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	if (challenge != NULL)
		X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, asn1_type,
		    (const unsigned char *)challenge, (int)strlen(challenge));
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	n = i2d_X509_REQ(req, &der);
	if (n <= 0 || buf_set(out, der, (size_t)n) != 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ok ? 0 : -1;
}

/* A PKI like the appliance's: RSA root, EC P-384 issuing CA (an "ec-384" CA), and the CA's RSA
 * RA certificate (digitalSignature + keyEncipherment, issued by the CA). */
struct scept_pki {
	EVP_PKEY *root_key, *ca_key, *ra_key;
	X509 *root_cert, *ca_cert, *ra_cert;
};

static inline void
scept_pki_new(struct scept_pki *pki)
{
	pki->root_key = scept_rsa(2048);
	pki->ca_key = scept_ec();
	pki->ra_key = scept_rsa(2048);
	pki->root_cert = scept_cert("Test Root", pki->root_key, NULL, NULL, 1, NULL);
	pki->ca_cert = scept_cert("Test EC CA", pki->ca_key, pki->root_cert, pki->root_key, 1, NULL);
	pki->ra_cert = scept_cert("Test EC CA SCEP RA", pki->ra_key, pki->ca_cert, pki->ca_key, 0,
	    "critical,digitalSignature,keyEncipherment");
}

static inline void
scept_pki_free(struct scept_pki *pki)
{
	X509_free(pki->root_cert);
	X509_free(pki->ca_cert);
	X509_free(pki->ra_cert);
	EVP_PKEY_free(pki->root_key);
	EVP_PKEY_free(pki->ca_key);
	EVP_PKEY_free(pki->ra_key);
}

/* What a client read from a CertRep. */
struct scept_certrep {
	char status[4], fail_info[4], cipher[16], digest[16];
	size_t content_len;
	int n_certs, n_crls;
	struct buf cert0;
};

static inline void
scept_certrep_free(struct scept_certrep *got)
{
	buf_free(&got->cert0);
}

static inline const ASN1_STRING *
scept_attr(STACK_OF(X509_ATTRIBUTE) *attrs, const char *oid, int type)
{
	char txt[80];
	int i;

	for (i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
		ASN1_TYPE *v;

		OBJ_obj2txt(txt, sizeof(txt), X509_ATTRIBUTE_get0_object(a), 1);
		if (strcmp(txt, oid) != 0)
			continue;
		assert_int_equal(X509_ATTRIBUTE_count(a), 1);
		v = X509_ATTRIBUTE_get0_type(a, 0);
		assert_int_equal(v->type, type);
		return v->value.asn1_string;
	}
	return NULL;
}

static inline void
scept_copy_attr(char *dst, size_t dst_len, const ASN1_STRING *s)
{
	dst[0] = '\0';
	if (s == NULL)
		return;
	assert_true((size_t)s->length < dst_len);
	memcpy(dst, s->data, (size_t)s->length);
	dst[s->length] = '\0';
}

/* certmonger's check (OpenSSL PKCS7_verify, verify flags 0, GetCACert certificates as trust),
 * CMS_verify, the SCEP attributes against req, and, when ckey is given, the envelope opened with
 * the requester's key (ctx: a context that can do DES). */
static inline void
scept_check_certrep(const struct buf *rep, const struct scept_pki *pki, const struct scep_msg *req,
    EVP_PKEY *ckey, X509 *ccert, OSSL_LIB_CTX *ctx, struct scept_certrep *got)
{
	const unsigned char *p = rep->data;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)rep->len);
	PKCS7_SIGNER_INFO *si;
	X509_STORE *store = X509_STORE_new(), *ra_only = X509_STORE_new();
	BIO *out = BIO_new(BIO_s_mem()), *out2 = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms;
	const ASN1_STRING *s;
	char *data;
	long n;

	memset(got, 0, sizeof(*got));
	assert_non_null(p7);
	assert_ptr_equal(p, rep->data + rep->len);
	assert_true(PKCS7_type_is_signed(p7));
	/* 1. certmonger: trust = the GetCACert certificates, strict S/MIME signing purpose. */
	X509_STORE_add_cert(store, pki->root_cert);
	X509_STORE_add_cert(store, pki->ca_cert);
	X509_STORE_add_cert(store, pki->ra_cert);
	if (PKCS7_verify(p7, NULL, store, NULL, out, 0) != 1) {
		ERR_print_errors_fp(stderr);
		fail_msg("PKCS7_verify with the GetCACert certificates failed");
	}
	/* 2. The RA certificate alone as trust anchor (partial chain), as the brief describes. */
	X509_STORE_add_cert(ra_only, pki->ra_cert);
	X509_STORE_set_flags(ra_only, X509_V_FLAG_PARTIAL_CHAIN);
	if (PKCS7_verify(p7, NULL, ra_only, NULL, NULL, 0) != 1) {
		ERR_print_errors_fp(stderr);
		fail_msg("PKCS7_verify with the RA certificate as trust failed");
	}
	/* 3. CMS_verify against the root only (the chain comes from the reply's certificates). */
	p = rep->data;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)rep->len);
	assert_non_null(cms);
	{
		X509_STORE *root_only = X509_STORE_new();

		X509_STORE_add_cert(root_only, pki->root_cert);
		if (CMS_verify(cms, NULL, root_only, NULL, out2, CMS_BINARY) != 1) {
			ERR_print_errors_fp(stderr);
			fail_msg("CMS_verify failed");
		}
		X509_STORE_free(root_only);
	}
	CMS_ContentInfo_free(cms);
	/* Attributes (RFC 8894 §3.3.2). */
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 1);
	si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
	assert_int_equal(X509_NAME_cmp(si->issuer_and_serial->issuer, X509_get_issuer_name(pki->ra_cert)), 0);
	s = scept_attr(si->auth_attr, SCEPT_OID_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING);
	assert_non_null(s);
	assert_int_equal(s->length, 1);
	assert_int_equal(s->data[0], '3');
	s = scept_attr(si->auth_attr, SCEPT_OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING);
	assert_non_null(s);
	assert_int_equal((size_t)s->length, strlen(req->transaction_id));
	assert_memory_equal(s->data, req->transaction_id, (size_t)s->length);
	s = scept_attr(si->auth_attr, SCEPT_OID_RECIP_NONCE, V_ASN1_OCTET_STRING);
	assert_non_null(s);
	assert_int_equal(s->length, 16);
	assert_memory_equal(s->data, req->sender_nonce, 16);
	s = scept_attr(si->auth_attr, SCEPT_OID_SENDER_NONCE, V_ASN1_OCTET_STRING);
	assert_non_null(s);
	assert_int_equal(s->length, 16);
	assert_memory_not_equal(s->data, req->sender_nonce, 16);
	scept_copy_attr(got->status, sizeof(got->status),
	    scept_attr(si->auth_attr, SCEPT_OID_PKI_STATUS, V_ASN1_PRINTABLESTRING));
	scept_copy_attr(got->fail_info, sizeof(got->fail_info),
	    scept_attr(si->auth_attr, SCEPT_OID_FAIL_INFO, V_ASN1_PRINTABLESTRING));
	snprintf(got->digest, sizeof(got->digest), "%s", OBJ_nid2sn(OBJ_obj2nid(si->digest_alg->algorithm)));
	/* The reply carries the RA certificate (certmonger needs it to find the signer). */
	{
		int i, found = 0;

		for (i = 0; i < sk_X509_num(p7->d.sign->cert); i++)
			found |= X509_cmp(sk_X509_value(p7->d.sign->cert, i), pki->ra_cert) == 0;
		assert_true(found);
	}

	n = BIO_get_mem_data(out, &data);
	got->content_len = (size_t)n;
	if (ckey != NULL) {
		CMS_ContentInfo *env = CMS_ContentInfo_new_ex(ctx, NULL);
		PKCS7 *envp7, *deg;
		BIO *plain = BIO_new(BIO_s_mem());
		const unsigned char *q = (const unsigned char *)data;
		char *pd;
		long pn;

		envp7 = d2i_PKCS7(NULL, &q, n);
		assert_non_null(envp7);
		assert_true(PKCS7_type_is_enveloped(envp7));
		switch (OBJ_obj2nid(envp7->d.enveloped->enc_data->algorithm->algorithm)) {
		case NID_aes_128_cbc: strcpy(got->cipher, "aes-128-cbc"); break;
		case NID_aes_256_cbc: strcpy(got->cipher, "aes-256-cbc"); break;
		case NID_des_ede3_cbc: strcpy(got->cipher, "des-ede3-cbc"); break;
		case NID_des_cbc: strcpy(got->cipher, "des-cbc"); break;
		default: fail_msg("unexpected envelope cipher");
		}
		PKCS7_free(envp7);
		q = (const unsigned char *)data;
		assert_non_null(d2i_CMS_ContentInfo(&env, &q, n));
		if (CMS_decrypt(env, ckey, ccert, NULL, plain, CMS_BINARY) != 1) {
			ERR_print_errors_fp(stderr);
			fail_msg("the requester cannot open the SUCCESS envelope");
		}
		pn = BIO_get_mem_data(plain, &pd);
		q = (const unsigned char *)pd;
		deg = d2i_PKCS7(NULL, &q, pn);
		assert_non_null(deg);
		assert_true(PKCS7_type_is_signed(deg));
		assert_int_equal(sk_PKCS7_SIGNER_INFO_num(deg->d.sign->signer_info), 0);
		got->n_certs = deg->d.sign->cert != NULL ? sk_X509_num(deg->d.sign->cert) : 0;
		got->n_crls = deg->d.sign->crl != NULL ? sk_X509_CRL_num(deg->d.sign->crl) : 0;
		if (got->n_certs > 0) {
			unsigned char *der = NULL;
			int dn = i2d_X509(sk_X509_value(deg->d.sign->cert, 0), &der);

			buf_set(&got->cert0, der, (size_t)dn);
			OPENSSL_free(der);
		}
		PKCS7_free(deg);
		BIO_free(plain);
		CMS_ContentInfo_free(env);
	}
	BIO_free(out);
	BIO_free(out2);
	X509_STORE_free(store);
	X509_STORE_free(ra_only);
	PKCS7_free(p7);
}

#endif
