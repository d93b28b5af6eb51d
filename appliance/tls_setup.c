/*
 * tls_setup.c: makes the HTTPS certificate at init (see tls_setup.h).
 *
 * May call: OpenSSL (a software key and CSR for the transport only), issue.h, ca.h, buf.h.
 * Must never: touch a CA key other than through issue.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "ca.h"
#include "ctx.h"
#include "err.h"
#include "issue.h"
#include "tls_setup.h"

#define TLS_NAMES_MAX 1024

/* "localhost,127.0.0.1" -> "DNS:localhost,IP:127.0.0.1" (OpenSSL's subjectAltName syntax). */
static int
tls_san_list(const char *names, char *out, size_t n, char *first, size_t first_n)
{
	char copy[TLS_NAMES_MAX], *name, *save = NULL;
	ASN1_OCTET_STRING *ip;
	size_t used = 0;
	int w, is_ip;

	if (strlen(names) >= sizeof(copy))
		return err_set(HSMCA_E_INVALID, "configuration: tls_names is too long");
	memcpy(copy, names, strlen(names) + 1);
	out[0] = first[0] = '\0';
	for (name = strtok_r(copy, ", ", &save); name != NULL; name = strtok_r(NULL, ", ", &save)) {
		ip = a2i_IPADDRESS(name);
		is_ip = ip != NULL;
		ASN1_OCTET_STRING_free(ip);
		w = snprintf(out + used, n - used, "%s%s:%s", used ? "," : "", is_ip ? "IP" : "DNS", name);
		if (w < 0 || (size_t)w >= n - used)
			return err_set(HSMCA_E_INVALID, "configuration: tls_names is too long");
		used += (size_t)w;
		if (first[0] == '\0')
			snprintf(first, first_n, "%s", name);
	}
	if (used == 0)
		return err_set(HSMCA_E_INVALID, "configuration: tls_names names no host");
	return 0;
}

/* A P-256 key and a CSR for it with the SANs; the key is PEM, the CSR DER. */
static int
tls_key_and_csr(const char *cn, const char *sans, struct buf *key_pem, struct buf *csr_der)
{
	EVP_PKEY *pkey = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	X509_EXTENSION *ext = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	unsigned char *der = NULL;
	int len, rc = HSMCA_E_INTERNAL;

	pkey = EVP_EC_gen("P-256");
	req = X509_REQ_new();
	name = X509_NAME_new();
	exts = sk_X509_EXTENSION_new_null();
	bio = BIO_new(BIO_s_mem());
	if (pkey == NULL || req == NULL || name == NULL || exts == NULL || bio == NULL)
		goto out;
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, pkey))
		goto out;
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sans);
	if (ext == NULL) {
		rc = err_set(HSMCA_E_INVALID, "configuration: tls_names is not a valid name list");
		goto out;
	}
	if (!sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	if (!X509_REQ_add_extensions(req, exts) || !X509_REQ_sign(req, pkey, EVP_sha256()))
		goto out;
	len = i2d_X509_REQ(req, &der);
	if (len <= 0 || (rc = buf_set(csr_der, der, (size_t)len)) != 0)
		goto out;
	if (!PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	rc = buf_set(key_pem, mem->data, mem->length);
	OPENSSL_cleanse(mem->data, mem->length);
out:
	if (rc == HSMCA_E_INTERNAL)
		err_set(rc, "cannot make the TLS key and request"), err_drain_openssl();
	OPENSSL_free(der);
	BIO_free(bio);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	return rc;
}

/* Appends the PEM of one DER certificate to out. */
static int
pem_append(BIO *out, const struct buf *der)
{
	const unsigned char *p = der->data;
	X509 *x;
	int ok;

	x = d2i_X509(NULL, &p, (long)der->len);
	if (x == NULL)
		return err_set(HSMCA_E_INTERNAL, "stored certificate does not parse");
	ok = PEM_write_bio_X509(out, x);
	X509_free(x);
	return ok ? 0 : HSMCA_E_INTERNAL;
}

int
tls_setup_issue(struct hsmca_ctx *ctx, const char *ca_slug, const char *actor)
{
	char sans[TLS_NAMES_MAX + 256], cn[256], dir[CONFIG_PATH_MAX + 16], path[CONFIG_PATH_MAX + 32];
	struct buf key_pem = { 0 }, csr_der = { 0 };
	struct buf *chain = NULL;
	size_t n_chain = 0, i;
	struct issue_req req;
	struct db_ca *ca = NULL;
	struct issue_result res;
	BIO *certs = NULL, *root = NULL;
	BUF_MEM *mem;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = tls_san_list(ctx->cfg.tls_names, sans, sizeof(sans), cn, sizeof(cn));
	if (rc != 0)
		goto out;
	rc = tls_key_and_csr(cn, sans, &key_pem, &csr_der);
	if (rc != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.ca_slug = ca_slug;
	req.csr_der = csr_der.data;
	req.csr_len = csr_der.len;
	req.profile = ISSUE_PROFILE_SERVER;
	req.days = 825;
	req.requested_by = actor;
	rc = issue_from_csr(ctx, &req, &res);
	if (rc != 0)
		goto out;
	rc = ca_get_by_slug(ctx, ca_slug, &ca);
	if (rc != 0)
		goto out;
	rc = ca_chain(ctx, ca, &chain, &n_chain);
	if (rc != 0)
		goto out;
	rc = HSMCA_E_INTERNAL;
	certs = BIO_new(BIO_s_mem());
	root = BIO_new(BIO_s_mem());
	if (certs == NULL || root == NULL || n_chain == 0)
		goto out;
	if ((rc = pem_append(certs, &res.cert_der)) != 0)
		goto out;
	/* The server sends its certificate and every CA but the root, which clients must trust. */
	for (i = 0; i + 1 < n_chain; i++)
		if ((rc = pem_append(certs, &chain[i])) != 0)
			goto out;
	if ((rc = pem_append(root, &chain[n_chain - 1])) != 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/tls", ctx->cfg.state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = err_set(HSMCA_E_IO, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if ((rc = buf_write_file(path, key_pem.data, key_pem.len, 0600)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	BIO_get_mem_ptr(certs, &mem);
	if ((rc = buf_write_file(path, mem->data, mem->length, 0644)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	BIO_get_mem_ptr(root, &mem);
	rc = buf_write_file(path, mem->data, mem->length, 0644);
out:
	BIO_free(root);
	BIO_free(certs);
	ca_chain_free(chain, n_chain);
	db_ca_free(ca);
	issue_result_free(&res);
	buf_free(&csr_der);
	buf_free(&key_pem);
	return rc;
}
