/*
 * scep_caps.c: GetCACaps text, GetCACert and GetNextCACert bodies and degenerate PKCS#7 (see
 * scep_caps.h).
 * Pure: no I/O, no token, no database. Certificates are passed through as DER after a framing
 * check (one DER SEQUENCE), never re-encoded, so what clients pin stays byte-identical.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "crl_der.h"
#include "err.h"
#include "scep_caps.h"
#include "scep_reply.h"

/* Longest chain we put in a GetCACert (RA + CA + intermediates + root). */
#define SCEP_CAPS_MAX_CERTS 16
/* Largest certificate one PKCS#7 carries; a CRL may have up to CRL_DER_MAX_BYTES. Together
 * they keep every length below 2^32, so a header is at most CRL_DER_HDR_MAX bytes. */
#define SCEP_CAPS_MAX_CERT_DER (1024 * 1024)

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

/* One definite-length DER SEQUENCE filling b exactly. The certificates and CRLs put into a
 * PKCS#7 here are our own (issued, RA, CA chain, CRL), decoded and checked where they were made
 * or stored; decoding each again per reply cost ~1.5 M instructions a certificate. */
static int
der_sequence_ok(const struct buf *b)
{
	const uint8_t *p = b->data;
	long len;
	int tag, cls, ret;

	if (p == NULL || b->len < 2 || b->len > (size_t)LONG_MAX)
		return 0;
	ret = ASN1_get_object(&p, &len, &tag, &cls, (long)b->len);
	if ((ret & 0x80) != 0 || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL) {
		ERR_clear_error();
		return 0;
	}
	return (size_t)(p - b->data) + (size_t)len == b->len;
}

/* Appends tag + DER length of len at w; returns the bytes written. */
static size_t
put_hdr(uint8_t *w, uint8_t tag, size_t len)
{
	uint8_t h[CRL_DER_HDR_MAX];
	size_t n = crl_der_hdr(h, tag, len);

	memcpy(w, h, n);
	return n;
}

static size_t
hdr_len(size_t len)
{
	uint8_t h[CRL_DER_HDR_MAX];

	return crl_der_hdr(h, 0x30, len);
}

/*
 * Written by hand so the certificates are copied as bytes, never decoded (the same DER
 * i2d_PKCS7 gives for a PKCS7_set_type(NID_pkcs7_signed) with the certificates and CRL added,
 * tests/unit/test_scep_reply.c compares the two):
 *   ContentInfo ::= SEQUENCE { signedData OID, [0] EXPLICIT SignedData ::= SEQUENCE {
 *     version 1, digestAlgorithms SET {}, contentInfo SEQUENCE { id-data },
 *     certificates [0] IMPLICIT (in the given order), crls [1] IMPLICIT, signerInfos SET {} } }
 */
int
scep_certs_only(const struct buf *certs, size_t n_certs, const struct buf *crl_der, struct buf *out)
{
	static const uint8_t oid_signed[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
	static const uint8_t head[] = {
		0x02, 0x01, 0x01,                  /* version 1 */
		0x31, 0x00,                        /* digestAlgorithms: none */
		0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, /* id-data, no eContent */
	};
	static const uint8_t no_signers[] = { 0x31, 0x00 };
	size_t certs_len = 0, sd_len, x0_len, ci_len, total, at, i;
	uint8_t *w = NULL;
	int rc;

	buf_free(out);
	if (n_certs > SCEP_CAPS_MAX_CERTS || (n_certs == 0 && crl_der == NULL))
		return err_set(HSMCA_E_INVALID, "certs-only PKCS#7: %zu certificates", n_certs);
	for (i = 0; i < n_certs; i++) {
		if (!der_sequence_ok(&certs[i]) || certs[i].len > SCEP_CAPS_MAX_CERT_DER)
			return err_set(HSMCA_E_INVALID, "certs-only PKCS#7: certificate %zu is not DER", i);
		certs_len += certs[i].len;
	}
	if (crl_der != NULL && (!der_sequence_ok(crl_der) || crl_der->len > CRL_DER_MAX_BYTES))
		return err_set(HSMCA_E_INVALID, "certs-only PKCS#7: the CRL is not DER");
	sd_len = sizeof(head) + sizeof(no_signers);
	if (n_certs > 0)
		sd_len += hdr_len(certs_len) + certs_len;
	if (crl_der != NULL)
		sd_len += hdr_len(crl_der->len) + crl_der->len;
	x0_len = hdr_len(sd_len) + sd_len;
	ci_len = sizeof(oid_signed) + hdr_len(x0_len) + x0_len;
	total = hdr_len(ci_len) + ci_len;
	if ((w = malloc(total)) == NULL)
		return HSMCA_E_NOMEM;
	at = put_hdr(w, 0x30, ci_len);
	memcpy(w + at, oid_signed, sizeof(oid_signed));
	at += sizeof(oid_signed);
	at += put_hdr(w + at, 0xa0, x0_len);
	at += put_hdr(w + at, 0x30, sd_len);
	memcpy(w + at, head, sizeof(head));
	at += sizeof(head);
	if (n_certs > 0) {
		at += put_hdr(w + at, 0xa0, certs_len);
		for (i = 0; i < n_certs; i++) {
			memcpy(w + at, certs[i].data, certs[i].len);
			at += certs[i].len;
		}
	}
	if (crl_der != NULL) {
		at += put_hdr(w + at, 0xa1, crl_der->len);
		memcpy(w + at, crl_der->data, crl_der->len);
		at += crl_der->len;
	}
	memcpy(w + at, no_signers, sizeof(no_signers));
	at += sizeof(no_signers);
	rc = at == total ? buf_set(out, w, total) : err_set(HSMCA_E_INTERNAL, "certs-only PKCS#7: size mismatch");
	free(w);
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
		if (!der_sequence_ok(&chain[0]))
			return err_set(HSMCA_E_INVALID, "GetCACert: the CA certificate is not DER");
		if ((rc = buf_set(out, chain[0].data, chain[0].len)) == 0)
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
