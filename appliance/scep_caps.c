/*
 * scep_caps.c: GetCACaps text, GetCACert and GetNextCACert bodies and degenerate PKCS#7 (see
 * scep_caps.h).
 * Pure: no I/O, no token, no database. Certificates are passed through as DER after a parse
 * check, never re-encoded, so what clients pin stays byte-identical.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "err.h"
#include "scep_caps.h"
#include "scep_reply.h"

/* Longest chain we put in a GetCACert (RA + CA + intermediates + root). */
#define SCEP_CAPS_MAX_CERTS 16

int
scep_caps_text(unsigned flags, struct buf *out)
{
	char text[256];

	buf_free(out);
	/* Most specific first is not required by §3.5.2; certmonger and micromdm read any order. */
	snprintf(text, sizeof(text), "POSTPKIOperation\nSHA-256\nSHA-512\nAES\nSCEPStandard\n%s%s",
	    (flags & SCEP_CAPS_RENEWAL) ? "Renewal\n" : "",
	    (flags & SCEP_CAPS_GETNEXTCACERT) ? "GetNextCACert\n" : "");
	return buf_set(out, text, strlen(text));
}

int
scep_certs_only(const struct buf *certs, size_t n_certs, const struct buf *crl_der, struct buf *out)
{
	PKCS7 *p7 = NULL;
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	const uint8_t *p;
	uint8_t *der = NULL;
	size_t i;
	int rc = HSMCA_E_INTERNAL, n;

	buf_free(out);
	if (n_certs > SCEP_CAPS_MAX_CERTS || (n_certs == 0 && crl_der == NULL)) {
		rc = err_set(HSMCA_E_INVALID, "certs-only PKCS#7: %zu certificates", n_certs);
		goto out;
	}
	if ((p7 = PKCS7_new()) == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed)) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* id-data with the eContent absent, as `openssl crl2pkcs7` writes it (PKCS7_content_new
	 * would embed an empty OCTET STRING instead). */
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < n_certs; i++) {
		p = certs[i].data;
		x = p != NULL ? d2i_X509(NULL, &p, (long)certs[i].len) : NULL;
		if (x == NULL || p != certs[i].data + certs[i].len) {
			rc = err_set(HSMCA_E_INVALID, "certs-only PKCS#7: certificate %zu is not DER", i);
			goto out;
		}
		/* PKCS7_add_certificate takes its own reference. */
		if (!PKCS7_add_certificate(p7, x)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		X509_free(x);
		x = NULL;
	}
	if (crl_der != NULL) {
		p = crl_der->data;
		crl = p != NULL ? d2i_X509_CRL(NULL, &p, (long)crl_der->len) : NULL;
		if (crl == NULL || p != crl_der->data + crl_der->len) {
			rc = err_set(HSMCA_E_INVALID, "certs-only PKCS#7: the CRL is not DER");
			goto out;
		}
		if (!PKCS7_add_crl(p7, crl)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	n = i2d_PKCS7(p7, &der);
	if (n <= 0) {
		rc = err_set(HSMCA_E_INTERNAL, "i2d_PKCS7 failed");
		goto out;
	}
	rc = buf_set(out, der, (size_t)n);
out:
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_free(x);
	PKCS7_free(p7);
	return rc;
}

int
scep_cacert_body(const struct buf *ra_cert, const struct buf *chain, size_t n_chain,
    struct buf *out, const char **content_type)
{
	struct buf all[SCEP_CAPS_MAX_CERTS];
	size_t i;
	int rc;

	buf_free(out);
	*content_type = NULL;
	if (n_chain == 0 || n_chain >= SCEP_CAPS_MAX_CERTS)
		return err_set(HSMCA_E_INVALID, "GetCACert: chain of %zu certificates", n_chain);
	if (ra_cert == NULL) {
		const uint8_t *p = chain[0].data;
		X509 *x = p != NULL ? d2i_X509(NULL, &p, (long)chain[0].len) : NULL;

		rc = (x == NULL || p != chain[0].data + chain[0].len) ?
		    err_set(HSMCA_E_INVALID, "GetCACert: the CA certificate is not DER") :
		    buf_set(out, chain[0].data, chain[0].len);
		X509_free(x);
		ERR_clear_error();
		if (rc == 0)
			*content_type = SCEP_CT_CA_CERT;
		return rc;
	}
	/* Shallow copies: scep_certs_only only reads them. */
	all[0] = *ra_cert;
	for (i = 0; i < n_chain; i++)
		all[i + 1] = chain[i];
	rc = scep_certs_only(all, n_chain + 1, NULL, out);
	if (rc == 0)
		*content_type = SCEP_CT_CA_RA_CERT;
	return rc;
}

int
scep_nextcacert_body(const struct buf *certs, size_t n_certs, const struct scep_signops *signer,
    struct buf *out)
{
	struct buf inner = { 0 };
	int rc;

	buf_free(out);
	/* At least the next RA and the next CA certificate (§4.7 returns both, as GetCACert does). */
	if (n_certs < 2)
		return err_set(HSMCA_E_INVALID, "GetNextCACert: %zu certificates", n_certs);
	if ((rc = scep_certs_only(certs, n_certs, NULL, &inner)) != 0)
		return rc;
	/* No SCEP attributes: this is not a pkiMessage, only signed content (§4.7.1). */
	rc = signer->sign(signer->arg, inner.data, inner.len, NULL, 0, "sha256", out);
	buf_free(&inner);
	return rc;
}
