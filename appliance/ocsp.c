/*
 * ocsp.c: OCSP responder (see ocsp.h).
 *
 * May call: OpenSSL to parse requests and encode SingleResponses, crl_der.h's DER helpers,
 * db_cas.h / db_revocation.h for status, ca_rollover.h for the CA's key generations, tok.h to
 * sign. Must never: crash or answer anything but an
 * OCSPResponse on bad input, or need an EVP_PKEY of the CA (OCSP_basic_sign would): the
 * ResponseData is assembled here and its bytes signed with tok_sign_data.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "ca.h"
#include "ca_rollover.h"
#include "crl_der.h"
#include "db.h"
#include "db_cas.h"
#include "db_revocation.h"
#include "err.h"
#include "log.h"
#include "ocsp.h"
#include "tok.h"
#include "x509_build.h"

/* id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1 */
static const uint8_t oid_basic[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };

void
ocsp_req_free(struct ocsp_req *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		OCSP_CERTID_free(r->ids[i].cid);
	free(r->nonce_ext);
	free(r);
}

static int
copy_octets(const ASN1_OCTET_STRING *s, uint8_t *out, size_t cap, size_t *len)
{
	int l = s != NULL ? ASN1_STRING_length(s) : -1;

	if (l < 0 || (size_t)l > cap)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)l);
	*len = (size_t)l;
	return 0;
}

int
ocsp_req_parse(const uint8_t *der, size_t len, struct ocsp_req **out)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = NULL;
	struct ocsp_req *r = NULL;
	X509_EXTENSION *ext;
	unsigned char *nd = NULL;
	int i, n, idx, nl, rc = HSMCA_E_INTERNAL;

	*out = NULL;
	if (der == NULL || len == 0 || len > OCSP_MAX_REQUEST_BYTES)
		return err_set(HSMCA_E_INVALID, "OCSP request of %zu bytes (1 to %d allowed)", len,
		    OCSP_MAX_REQUEST_BYTES);
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL || p != der + len) {
		rc = err_set(HSMCA_E_INVALID, req == NULL ? "OCSP request is not DER (RFC 6960 4.1.1)" :
		    "OCSP request has trailing bytes");
		goto out;
	}
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > OCSP_MAX_CERTIDS) {
		rc = err_set(HSMCA_E_INVALID, "OCSP request with %d CertIDs (1 to %d allowed)", n, OCSP_MAX_CERTIDS);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ocsp_certid *c = &r->ids[r->n];
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
		ASN1_OBJECT *md = NULL;
		ASN1_INTEGER *serial = NULL;

		if (cid == NULL || !OCSP_id_get0_info(&nh, &md, &kh, &serial, cid) ||
		    copy_octets(nh, c->name_hash, sizeof(c->name_hash), &c->name_hash_len) != 0 ||
		    copy_octets(kh, c->key_hash, sizeof(c->key_hash), &c->key_hash_len) != 0) {
			rc = err_set(HSMCA_E_INVALID, "OCSP CertID %d is malformed", i);
			goto out;
		}
		if ((c->cid = OCSP_CERTID_dup(cid)) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		r->n++;
		c->md_nid = OBJ_obj2nid(md);
		if (c->md_nid != NID_sha1 && c->md_nid != NID_sha256)
			c->md_nid = NID_undef;
		/* A negative or over-long serial names no certificate of ours: answered "unknown". */
		if (serial == NULL || ASN1_STRING_type(serial) != V_ASN1_INTEGER ||
		    x509b_serial_hex(serial, c->serial, sizeof(c->serial)) != 0)
			c->serial[0] = '\0';
	}
	idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
	if (idx >= 0) {
		if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, idx) >= 0) {
			rc = err_set(HSMCA_E_INVALID, "OCSP request carries two nonces");
			goto out;
		}
		ext = OCSP_REQUEST_get_ext(req, idx);
		if (ext == NULL || (nl = i2d_X509_EXTENSION(ext, &nd)) <= 0 || nl > OCSP_MAX_NONCE_EXT_BYTES) {
			rc = err_set(HSMCA_E_INVALID, "OCSP nonce is malformed or longer than RFC 8954 allows");
			goto out;
		}
		if ((r->nonce_ext = malloc((size_t)nl)) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		memcpy(r->nonce_ext, nd, (size_t)nl);
		r->nonce_ext_len = (size_t)nl;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(nd);
	ocsp_req_free(r);
	OCSP_REQUEST_free(req);
	return rc;
}

/* --- DER assembly --- */

/* Appends tag+len+content to out (a growing buffer). Like buf_set, every allocation keeps one
 * byte after len, which buf_free wipes along with the data. */
static int
put(struct buf *out, uint8_t tag, const uint8_t *v, size_t len)
{
	uint8_t h[CRL_DER_HDR_MAX];
	size_t hl = crl_der_hdr(h, tag, len);
	uint8_t *nb;

	if ((nb = realloc(out->data, out->len + hl + len + 1)) == NULL)
		return HSMCA_E_NOMEM;
	out->data = nb;
	memcpy(out->data + out->len, h, hl);
	if (len > 0)
		memcpy(out->data + out->len + hl, v, len);
	out->len += hl + len;
	return 0;
}

static int
raw(struct buf *out, const uint8_t *v, size_t len)
{
	uint8_t *nb;

	if ((nb = realloc(out->data, out->len + len + 1)) == NULL)
		return HSMCA_E_NOMEM;
	out->data = nb;
	memcpy(out->data + out->len, v, len);
	out->len += len;
	return 0;
}

static int
status_resp(int status, struct buf *out)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	unsigned char *d = NULL;
	int l, rc;

	out->data = NULL;
	out->len = 0;
	if (r == NULL || (l = i2d_OCSP_RESPONSE(r, &d)) <= 0) {
		OCSP_RESPONSE_free(r);
		return HSMCA_E_NOMEM;
	}
	rc = buf_set(out, d, (size_t)l);
	OPENSSL_free(d);
	OCSP_RESPONSE_free(r);
	return rc;
}

/* Whether the CertID's issuer hashes name ca (RFC 6960 4.1.1: hash of the issuer's DN DER and of
 * the value of its subjectPublicKey BIT STRING). */
static int
names_ca(const struct ocsp_certid *c, X509 *cacert)
{
	const EVP_MD *md = c->md_nid == NID_sha1 ? EVP_sha1() : c->md_nid == NID_sha256 ? EVP_sha256() : NULL;
	const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(cacert);
	unsigned char nh[EVP_MAX_MD_SIZE], kh[EVP_MAX_MD_SIZE];
	unsigned int nl = 0, kl = 0;

	if (md == NULL || key == NULL ||
	    !X509_NAME_digest(X509_get_subject_name(cacert), md, nh, &nl) ||
	    !EVP_Digest(ASN1_STRING_get0_data(key), (size_t)ASN1_STRING_length(key), kh, &kl, md, NULL))
		return 0;
	return nl == c->name_hash_len && kl == c->key_hash_len && memcmp(nh, c->name_hash, nl) == 0 &&
	    memcmp(kh, c->key_hash, kl) == 0;
}

/* The key that answers a request: one of the CA's key generations (ca_rollover.h), with its
 * certificate decoded. */
struct signer {
	const struct ca_gen *g;
	X509 *cert;
};

/* SingleResponses for every CertID, encoded by OpenSSL into responses (SEQUENCE contents). A
 * CertID is answered from the certificates that s's key issued, and only when its hashes name
 * s's certificate: one response has one signer. */
static int
single_responses(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct signer *s, const struct ocsp_req *r,
    int64_t now, struct buf *responses)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	ASN1_TIME *thisupd = NULL, *revtime = NULL;
	unsigned char *d = NULL;
	size_t i;
	int64_t revoked_at;
	int found, reason, status, l, rc = HSMCA_E_NOMEM;

	if (bs == NULL || (thisupd = ASN1_GENERALIZEDTIME_set(NULL, (time_t)now)) == NULL)
		goto out;
	for (i = 0; i < r->n; i++) {
		const struct ocsp_certid *c = &r->ids[i];

		found = 0;
		revoked_at = 0;
		reason = 0;
		if (c->serial[0] != '\0' && names_ca(c, s->cert) &&
		    (rc = db_revocation_status(ctx->db, ca->id, s->g->gen, c->serial, &found, &revoked_at, &reason)) != 0)
			goto out;
		status = !found ? V_OCSP_CERTSTATUS_UNKNOWN : revoked_at != 0 ? V_OCSP_CERTSTATUS_REVOKED :
		    V_OCSP_CERTSTATUS_GOOD;
		ASN1_TIME_free(revtime);
		revtime = NULL;
		if (status == V_OCSP_CERTSTATUS_REVOKED &&
		    (revtime = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(revoked_at / 1000))) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		if (OCSP_basic_add1_status(bs, c->cid, status, status == V_OCSP_CERTSTATUS_REVOKED ? reason :
		    OCSP_REVOKED_STATUS_NOSTATUS, revtime, thisupd, NULL) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	for (i = 0; i < r->n; i++) {
		if ((l = i2d_OCSP_SINGLERESP(OCSP_resp_get0(bs, (int)i), &d)) <= 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		if ((rc = raw(responses, d, (size_t)l)) != 0)
			goto out;
		OPENSSL_free(d);
		d = NULL;
	}
	rc = 0;
out:
	OPENSSL_free(d);
	ASN1_TIME_free(revtime);
	ASN1_TIME_free(thisupd);
	OCSP_BASICRESP_free(bs);
	return rc;
}

/* ResponseData ::= SEQUENCE { version [0] DEFAULT v1 (omitted), responderID, producedAt,
 * responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT Extensions OPTIONAL } */
static int
response_data(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct signer *s, const struct ocsp_req *r,
    int64_t now, struct buf *out)
{
	struct buf body = { 0 }, responses = { 0 }, rid = { 0 }, exts = { 0 };
	unsigned char kh[EVP_MAX_MD_SIZE];
	unsigned int kl = 0;
	uint8_t t[17];
	size_t tl;
	int rc;

	/* ResponderID byKey [2] EXPLICIT KeyHash: SHA-1 of the subjectPublicKey value (4.2.1). */
	if (!X509_pubkey_digest(s->cert, EVP_sha1(), kh, &kl)) {
		rc = err_set(HSMCA_E_INTERNAL, "OCSP: cannot hash the CA key");
		goto out;
	}
	if ((rc = put(&rid, 0x04, kh, kl)) != 0 || (rc = put(&body, 0xa2, rid.data, rid.len)) != 0 ||
	    (rc = crl_der_gentime(now, t, &tl)) != 0 || (rc = raw(&body, t, tl)) != 0 ||
	    (rc = single_responses(ctx, ca, s, r, now, &responses)) != 0 ||
	    (rc = put(&body, 0x30, responses.data, responses.len)) != 0)
		goto out;
	if (r->nonce_ext != NULL) {
		struct buf seq = { 0 };

		if ((rc = put(&seq, 0x30, r->nonce_ext, r->nonce_ext_len)) == 0)
			rc = put(&exts, 0xa1, seq.data, seq.len);
		buf_free(&seq);
		if (rc != 0 || (rc = raw(&body, exts.data, exts.len)) != 0)
			goto out;
	}
	rc = put(out, 0x30, body.data, body.len);
out:
	buf_free(&body);
	buf_free(&responses);
	buf_free(&rid);
	buf_free(&exts);
	return rc;
}

/*
 * RFC 6960 4.2.2.2: the response is signed by the CA that issued the certificates asked about.
 * After a rollover that CA has several keys (ca_rollover.h), so the signer is the key generation
 * whose certificate the first CertID names (issuerNameHash and issuerKeyHash; old certificates
 * carry the old key's hash), or the current key when none is named (all answers "unknown").
 */
static int
pick_signer(const struct db_ca *ca, const struct ca_gens *gens, const struct ocsp_req *r, struct signer *s)
{
	X509 *x = NULL;
	size_t i, k;

	for (i = 0; i < r->n; i++) {
		for (k = 0; k < gens->n; k++) {
			/* The current certificate is decoded once per process (ca_cert_get). */
			if ((k == 0 ? ca_cert_get(ca, &x) :
			    x509b_parse_cert(gens->g[k].cert_der->data, gens->g[k].cert_der->len, &x)) != 0)
				continue;
			if (names_ca(&r->ids[i], x)) {
				s->g = &gens->g[k];
				s->cert = x;
				return 0;
			}
			X509_free(x);
			x = NULL;
		}
	}
	s->g = &gens->g[0];
	if (ca_cert_get(ca, &s->cert) != 0)
		return err_set(HSMCA_E_DB, "OCSP: the stored certificate of CA %s does not parse", ca->slug);
	return 0;
}

static int
signed_response(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ocsp_req *r, struct buf *out)
{
	struct ca_gens gens;
	struct signer s = { NULL, NULL };
	struct buf rd = { 0 }, sig = { 0 }, alg = { 0 }, basic = { 0 }, bits = { 0 }, inner = { 0 },
	    rb = { 0 }, resp = { 0 }, tmp = { 0 }, certs = { 0 };
	uint8_t zero = 0, ok_status[3] = { 0x0a, 0x01, 0x00 };
	int rc;

	memset(&gens, 0, sizeof(gens));
	if ((rc = ca_gens_read(ctx, ca, &gens)) != 0 || (rc = pick_signer(ca, &gens, r, &s)) != 0)
		goto out;
	if ((rc = response_data(ctx, ca, &s, r, db_now_ms() / 1000, &rd)) != 0)
		goto out;
	if (ctx->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "OCSP: the token is not open");
		goto out;
	}
	if ((rc = tok_sign_data(ctx->tok, s.g->keyref, rd.data, rd.len, &sig, &alg)) != 0) {
		rc = ca_key_error(ca, s.g->keyref, rc);
		goto out;
	}
	/* BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING,
	 * certs [0] EXPLICIT SEQUENCE OF Certificate }. The CA signs for itself, so certs is optional
	 * (4.2.2.2), but clients that only hold a trust store (openssl ocsp -CAfile, without -issuer)
	 * find the signer by the responderID among certs: carrying the CA certificate costs ~1 KB. */
	if ((rc = raw(&bits, &zero, 1)) != 0 || (rc = raw(&bits, sig.data, sig.len)) != 0 ||
	    (rc = raw(&tmp, rd.data, rd.len)) != 0 || (rc = raw(&tmp, alg.data, alg.len)) != 0 ||
	    (rc = put(&tmp, 0x03, bits.data, bits.len)) != 0 ||
	    (rc = put(&certs, 0x30, s.g->cert_der->data, s.g->cert_der->len)) != 0 ||
	    (rc = put(&tmp, 0xa0, certs.data, certs.len)) != 0 || (rc = put(&basic, 0x30, tmp.data, tmp.len)) != 0)
		goto out;
	/* ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING } */
	if ((rc = raw(&inner, oid_basic, sizeof(oid_basic))) != 0 ||
	    (rc = put(&inner, 0x04, basic.data, basic.len)) != 0 || (rc = put(&rb, 0x30, inner.data, inner.len)) != 0)
		goto out;
	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT } */
	buf_free(&tmp);
	if ((rc = raw(&tmp, ok_status, sizeof(ok_status))) != 0 || (rc = put(&tmp, 0xa0, rb.data, rb.len)) != 0 ||
	    (rc = put(&resp, 0x30, tmp.data, tmp.len)) != 0)
		goto out;
	*out = resp;
	resp.data = NULL;
	resp.len = 0;
	rc = 0;
out:
	X509_free(s.cert);
	ca_gens_free(&gens);
	buf_free(&rd);
	buf_free(&sig);
	buf_free(&alg);
	buf_free(&basic);
	buf_free(&bits);
	buf_free(&inner);
	buf_free(&rb);
	buf_free(&resp);
	buf_free(&tmp);
	buf_free(&certs);
	return rc;
}

int
ocsp_respond(struct hsmca_ctx *ctx, const char *ca_slug, const uint8_t *req_der, size_t len,
    struct buf *resp_der)
{
	struct ocsp_req *r = NULL;
	struct db_ca *ca = NULL;
	int rc, status;

	resp_der->data = NULL;
	resp_der->len = 0;
	if ((rc = ocsp_req_parse(req_der, len, &r)) != 0) {
		log_msg(LOGL_NOTICE, "ocsp", "ocsp.malformed", "%s", err_msg(rc));
		status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
		goto error;
	}
	if (ca_slug == NULL || (rc = db_cas_get_by_slug(ctx->db, ca_slug, &ca)) != 0) {
		status = rc == HSMCA_E_NOTFOUND || ca_slug == NULL ? OCSP_RESPONSE_STATUS_UNAUTHORIZED :
		    rc == HSMCA_E_BUSY ? OCSP_RESPONSE_STATUS_TRYLATER : OCSP_RESPONSE_STATUS_INTERNALERROR;
		goto error;
	}
	if ((rc = signed_response(ctx, ca, r, resp_der)) == 0)
		goto out;
	if (rc == HSMCA_E_NOMEM)
		goto out;
	log_msg(LOGL_WARNING, "ocsp", "ocsp.failed", "CA %s: %s", ca->slug, err_msg(rc));
	status = rc == HSMCA_E_BUSY ? OCSP_RESPONSE_STATUS_TRYLATER : OCSP_RESPONSE_STATUS_INTERNALERROR;
error:
	rc = status_resp(status, resp_der);
out:
	ERR_clear_error();
	db_ca_free(ca);
	ocsp_req_free(r);
	return rc;
}

int
ocsp_get_decode(const char *b64, struct buf *req_der)
{
	size_t inlen, cap;
	uint8_t *out = NULL;
	int n, pad = 0, rc;

	req_der->data = NULL;
	req_der->len = 0;
	if (b64 == NULL || (inlen = strlen(b64)) == 0 || inlen % 4 != 0 ||
	    inlen > (OCSP_MAX_REQUEST_BYTES + 2) / 3 * 4)
		return err_set(HSMCA_E_INVALID, "OCSP GET: not a base64 request of at most %d bytes",
		    OCSP_MAX_REQUEST_BYTES);
	cap = inlen / 4 * 3;
	if ((out = malloc(cap + 1)) == NULL)
		return HSMCA_E_NOMEM;
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)inlen)) < 0) {
		free(out);
		return err_set(HSMCA_E_INVALID, "OCSP GET: bad base64");
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	if (b64[inlen - 1] == '=')
		pad++;
	if (b64[inlen - 2] == '=')
		pad++;
	rc = buf_set(req_der, out, (size_t)n - (size_t)pad);
	free(out);
	return rc;
}
