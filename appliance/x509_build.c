/*
 * x509_build.c: certificate building and description helpers (see x509_build.h). PURE.
 *
 * May call: OpenSSL, jansson (for the SAN list), err.h. Must never: touch a key, the database
 * or the token.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "err.h"
#include "slug.h"
#include "x509_build.h"

int
x509b_random_serial(ASN1_INTEGER **serial, char hex[X509B_SERIAL_HEX])
{
	uint8_t b[X509B_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int i, rc = HSMCA_E_INTERNAL;

	*serial = NULL;
	hex[0] = '\0';
	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_set(HSMCA_E_INTERNAL, "no randomness for a serial number");
	/* Positive (top bit clear) and the first byte non-zero, so the INTEGER is exactly 16
	 * bytes: 127 bits of entropy, well over the 64 CA/B Forum asks for. */
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 0x01;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL || (*serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < X509B_SERIAL_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02X", b[i]);
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

int
x509b_serial_hex(const ASN1_INTEGER *serial, char *out, size_t outsz)
{
	BIGNUM *bn = NULL;
	char *h = NULL;
	int rc = HSMCA_E_INVALID;

	out[0] = '\0';
	if (serial == NULL || serial->length <= 0 || serial->length > 20 || (serial->type & V_ASN1_NEG))
		return err_set(HSMCA_E_INVALID, "serial number is missing, negative or longer than 20 bytes");
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL || (h = BN_bn2hex(bn)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (strlen(h) + 1 > outsz) {
		rc = err_set(HSMCA_E_INTERNAL, "serial buffer too small");
		goto out;
	}
	memcpy(out, h, strlen(h) + 1);
	rc = 0;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return rc;
}

int
x509b_name_text(const X509_NAME *name, char **out)
{
	BIO *bio;
	BUF_MEM *mem;
	int rc = HSMCA_E_NOMEM;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return HSMCA_E_NOMEM;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		rc = err_set(HSMCA_E_INVALID, "a name cannot be printed");
		goto out;
	}
	BIO_get_mem_ptr(bio, &mem);
	/* An empty name leaves the BIO without a buffer (data NULL). */
	if ((*out = mem->length > 0 ? strndup(mem->data, mem->length) : strdup("")) != NULL)
		rc = 0;
out:
	BIO_free(bio);
	return rc;
}

int
x509b_name_cn(const X509_NAME *name, char **out)
{
	unsigned char *utf8 = NULL;
	int idx, next, n;

	*out = NULL;
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return 0;
	while ((next = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
		idx = next;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0)
		return err_set(HSMCA_E_INVALID, "the common name is malformed");
	*out = strndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return *out != NULL ? 0 : HSMCA_E_NOMEM;
}

int
x509b_general_name_text(const GENERAL_NAME *gn, char *out, size_t outsz)
{
	const ASN1_STRING *s;
	const char *prefix;
	char ip[INET6_ADDRSTRLEN];
	int n;

	out[0] = '\0';
	switch (gn->type) {
	case GEN_DNS: prefix = "DNS"; s = gn->d.dNSName; break;
	case GEN_EMAIL: prefix = "email"; s = gn->d.rfc822Name; break;
	case GEN_URI: prefix = "URI"; s = gn->d.uniformResourceIdentifier; break;
	case GEN_IPADD:
		s = gn->d.iPAddress;
		if (s == NULL || (s->length != 4 && s->length != 16) ||
		    inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, ip, sizeof(ip)) == NULL)
			return err_set(HSMCA_E_INVALID, "malformed IP address name");
		n = snprintf(out, outsz, "IP:%s", ip);
		return n > 0 && (size_t)n < outsz ? 0 : err_set(HSMCA_E_INVALID, "name too long");
	default:
		return err_set(HSMCA_E_INVALID, "unsupported name type %d", gn->type);
	}
	if (s == NULL || memchr(s->data, '\0', (size_t)s->length) != NULL)
		return err_set(HSMCA_E_INVALID, "malformed %s name", prefix);
	n = snprintf(out, outsz, "%s:%.*s", prefix, s->length, (const char *)s->data);
	return n > 0 && (size_t)n < outsz ? 0 : err_set(HSMCA_E_INVALID, "%s name too long", prefix);
}

int
x509b_sans_json(const GENERAL_NAMES *names, char **out)
{
	json_t *arr = NULL;
	char text[2100];
	int i, rc = HSMCA_E_NOMEM;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return HSMCA_E_NOMEM;
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		if ((rc = x509b_general_name_text(sk_GENERAL_NAME_value(names, i), text, sizeof(text))) != 0)
			goto out;
		rc = HSMCA_E_NOMEM;
		if (json_array_append_new(arr, json_string(text)) != 0)
			goto out;
	}
	rc = HSMCA_E_NOMEM;
	if ((*out = json_dumps(arr, JSON_COMPACT)) != NULL)
		rc = 0;
out:
	json_decref(arr);
	return rc;
}

int
x509b_key_algorithm(const EVP_PKEY *pk, char *out, size_t outsz)
{
	char group[64];
	size_t glen = 0;

	out[0] = '\0';
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		snprintf(out, outsz, "rsa-%d", EVP_PKEY_get_bits(pk));
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) &&
		    strcmp(group, "secp521r1") == 0)
			snprintf(out, outsz, "ec-521");
		else
			snprintf(out, outsz, "ec-%d", EVP_PKEY_get_bits(pk));
		return 0;
	case EVP_PKEY_ED25519:
		snprintf(out, outsz, "ed25519");
		return 0;
	case EVP_PKEY_ED448:
		snprintf(out, outsz, "ed448");
		return 0;
	default:
		snprintf(out, outsz, "unknown");
		return 0;
	}
}

int
x509b_sha256_hex(const uint8_t *der, size_t len, char out[X509B_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	out[0] = '\0';
	if (!EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
		return err_set(HSMCA_E_INTERNAL, "SHA-256 failed");
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
x509b_time_ms(const ASN1_TIME *t, int64_t *ms)
{
	struct tm tm;

	*ms = 0;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return err_set(HSMCA_E_INVALID, "malformed time in a certificate");
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

int
x509b_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL) {
		err_set(HSMCA_E_INTERNAL, "cannot build extension %s = %s", OBJ_nid2sn(nid), value);
		err_drain_openssl();
		return HSMCA_E_INTERNAL;
	}
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : HSMCA_E_NOMEM;
}

static int
key_id(const X509 *cert, ASN1_OCTET_STRING **out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	*out = NULL;
	if (!X509_pubkey_digest(cert, EVP_sha1(), md, &len))
		return err_set(HSMCA_E_INTERNAL, "cannot hash a public key");
	if ((*out = ASN1_OCTET_STRING_new()) == NULL || !ASN1_OCTET_STRING_set(*out, md, (int)len)) {
		ASN1_OCTET_STRING_free(*out);
		*out = NULL;
		return HSMCA_E_NOMEM;
	}
	return 0;
}

int
x509b_add_ski(X509 *cert)
{
	ASN1_OCTET_STRING *id = NULL;
	int rc;

	if ((rc = key_id(cert, &id)) != 0)
		return rc;
	rc = X509_add1_ext_i2d(cert, NID_subject_key_identifier, id, 0, X509V3_ADD_REPLACE) == 1 ? 0 : HSMCA_E_NOMEM;
	ASN1_OCTET_STRING_free(id);
	return rc;
}

int
x509b_add_aki(X509 *cert, const X509 *issuer)
{
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *ski;
	int rc = HSMCA_E_NOMEM;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return HSMCA_E_NOMEM;
	ski = X509_get0_subject_key_id((X509 *)issuer);
	if (ski != NULL) {
		if ((akid->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL)
			goto out;
	} else if ((rc = key_id(issuer, &akid->keyid)) != 0) {
		goto out;
	}
	rc = X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid, 0, X509V3_ADD_REPLACE) == 1 ? 0 : HSMCA_E_NOMEM;
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

int
x509b_url_ok(const char *url)
{
	const char *p;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return 0;
	if (strlen(url) > 400)
		return 0;
	for (p = url; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ',' || *p == '"' || *p == '\\' || *p == '\'')
			return 0;
	return 1;
}

int
x509b_add_ca_urls(X509 *cert, const char *base_url, const char *issuer_slug, int64_t key_gen,
    int with_ocsp)
{
	char base[512], value[1400], name[SLUG_GEN_MAX];
	size_t n;
	int rc;

	if (!x509b_url_ok(base_url))
		return err_set(HSMCA_E_INVALID, "public_base_url '%s' is not a plain http(s) URL", base_url);
	n = strlen(base_url);
	if (n >= sizeof(base))
		return err_set(HSMCA_E_INVALID, "public_base_url is too long");
	memcpy(base, base_url, n + 1);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	slug_gen_name(issuer_slug, (long long)key_gen, name);
	snprintf(value, sizeof(value), "URI:%s/crl/%s.crl", base, name);
	if ((rc = x509b_add_ext(cert, NULL, NID_crl_distribution_points, value)) != 0)
		return rc;
	if (with_ocsp)
		snprintf(value, sizeof(value), "caIssuers;URI:%s/ca/%s.crt,OCSP;URI:%s/ocsp/%s", base, name,
		    base, issuer_slug);
	else
		snprintf(value, sizeof(value), "caIssuers;URI:%s/ca/%s.crt", base, name);
	return x509b_add_ext(cert, NULL, NID_info_access, value);
}

int
x509b_tbs_der(X509 *cert, const char *key_spec, struct buf *out)
{
	X509_ALGOR *alg;
	unsigned char *der = NULL;
	int nid, ptype, len, rc;

	out->data = NULL;
	out->len = 0;
	if (strncmp(key_spec, "rsa-", 4) == 0) {
		nid = NID_sha256WithRSAEncryption;
		ptype = V_ASN1_NULL;
	} else if (strcmp(key_spec, "ec-384") == 0) {
		nid = NID_ecdsa_with_SHA384;
		ptype = V_ASN1_UNDEF;
	} else {
		nid = NID_ecdsa_with_SHA256;
		ptype = V_ASN1_UNDEF;
	}
	/* OpenSSL offers no setter for the TBS copy of the algorithm; the getter's const is only
	 * advisory, and tok_sign_certificate overwrites the value anyway. */
	alg = (X509_ALGOR *)X509_get0_tbs_sigalg(cert);
	if (alg == NULL || !X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL))
		return err_set(HSMCA_E_INTERNAL, "cannot set the TBS signature algorithm");
	len = i2d_re_X509_tbs(cert, &der);
	if (len <= 0) {
		err_set(HSMCA_E_INTERNAL, "cannot encode the TBSCertificate");
		err_drain_openssl();
		return HSMCA_E_INTERNAL;
	}
	rc = buf_set(out, der, (size_t)len);
	OPENSSL_free(der);
	return rc;
}

/* The skeleton both x509b_new_cert* share: everything but the public key. */
static int
new_skeleton(const ASN1_INTEGER *serial, const X509_NAME *subject, const X509_NAME *issuer,
    int64_t not_before, int64_t not_after, X509 **out)
{
	X509 *x = NULL;

	*out = NULL;
	if (not_after <= not_before)
		return err_set(HSMCA_E_POLICY, "the validity period is empty");
	if ((x = X509_new()) == NULL)
		return HSMCA_E_NOMEM;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, (ASN1_INTEGER *)serial) ||
	    !X509_set_subject_name(x, subject) || !X509_set_issuer_name(x, issuer) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) == NULL) {
		X509_free(x);
		return HSMCA_E_NOMEM;
	}
	*out = x;
	return 0;
}

int
x509b_new_cert(const ASN1_INTEGER *serial, const X509_NAME *subject, const X509_NAME *issuer,
    int64_t not_before, int64_t not_after, EVP_PKEY *pub, X509 **out)
{
	X509 *x = NULL;
	int rc;

	*out = NULL;
	if ((rc = new_skeleton(serial, subject, issuer, not_before, not_after, &x)) != 0)
		return rc;
	if (!X509_set_pubkey(x, pub)) {
		X509_free(x);
		return HSMCA_E_NOMEM;
	}
	*out = x;
	return 0;
}

/* Copies src's algorithm, parameters and key bits into dst, an empty X509_PUBKEY. */
static int
copy_spki(X509_PUBKEY *dst, const X509_PUBKEY *src)
{
	ASN1_OBJECT *alg_oid = NULL, *obj = NULL;
	const ASN1_OBJECT *aobj = NULL;
	const unsigned char *bits = NULL;
	const void *pval = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *enc = NULL;
	void *param = NULL;
	int nbits = 0, ptype = V_ASN1_UNDEF;

	if (dst == NULL || !X509_PUBKEY_get0_param(&alg_oid, &bits, &nbits, &alg, src) || alg == NULL ||
	    nbits <= 0)
		return err_set(HSMCA_E_INVALID, "the public key is missing");
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	/* rsaEncryption takes NULL (RFC 3279 2.3.1; X509_set_pubkey writes it even when a CSR
	 * left it out) and a named curve its OID (RFC 5480 2.1.1); csr.c refuses other keys. */
	if (OBJ_obj2nid(aobj) == NID_rsaEncryption)
		ptype = V_ASN1_NULL, pval = NULL;
	if (ptype != V_ASN1_NULL && ptype != V_ASN1_OBJECT)
		return err_set(HSMCA_E_INVALID, "the public key's algorithm parameters are not supported");
	if ((obj = OBJ_dup(aobj)) == NULL || (ptype == V_ASN1_OBJECT && (param = OBJ_dup(pval)) == NULL) ||
	    (enc = OPENSSL_memdup(bits, (size_t)nbits)) == NULL)
		goto nomem;
	/* Ownership of obj, param and enc passes to dst on success. */
	if (!X509_PUBKEY_set0_param(dst, obj, ptype, param, enc, nbits))
		goto nomem;
	return 0;
nomem:
	OPENSSL_free(enc);
	ASN1_OBJECT_free(param);
	ASN1_OBJECT_free(obj);
	return HSMCA_E_NOMEM;
}

int
x509b_new_cert_spki(const ASN1_INTEGER *serial, const X509_NAME *subject, const X509_NAME *issuer,
    int64_t not_before, int64_t not_after, const X509_PUBKEY *spki, X509 **out)
{
	X509 *x = NULL;
	int rc;

	*out = NULL;
	if ((rc = new_skeleton(serial, subject, issuer, not_before, not_after, &x)) != 0)
		return rc;
	if ((rc = copy_spki(X509_get_X509_PUBKEY(x), spki)) != 0) {
		X509_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

int
x509b_parse_cert(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (len == 0 || len > (1u << 20))
		return err_set(HSMCA_E_INVALID, "certificate: empty or too large");
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "not a DER certificate (or trailing bytes after it)");
	}
	*out = x;
	return 0;
}

int
x509b_read_cert(const uint8_t *data, size_t len, X509 **out)
{
	BIO *bio;
	X509 *x;
	size_t i = 0;

	*out = NULL;
	while (i < len && isspace(data[i]))
		i++;
	if (len - i < 10 || memcmp(data + i, "-----BEGIN", 10) != 0)
		return x509b_parse_cert(data, len, out);
	if (len > (1u << 22) || (bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return err_set(HSMCA_E_INVALID, "certificate: too large");
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (x == NULL)
		return err_set(HSMCA_E_INVALID, "no PEM CERTIFICATE found");
	*out = x;
	return 0;
}

/* "sha256" for NID_sha256: the lowercase short name of a digest. */
static int
digest_sn(int mdnid, char *out, size_t outsz)
{
	const char *sn;
	size_t i;

	out[0] = '\0';
	if (mdnid == NID_undef || (sn = OBJ_nid2sn(mdnid)) == NULL)
		return err_set(HSMCA_E_INVALID, "the certificate's signature digest is unknown");
	for (i = 0; sn[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (char)tolower((unsigned char)sn[i]);
	out[i] = '\0';
	return 0;
}

int
x509b_digest_name(const X509 *cert, char *out, size_t outsz)
{
	int mdnid = NID_undef;

	out[0] = '\0';
	if (!X509_get_signature_info((X509 *)cert, &mdnid, NULL, NULL, NULL))
		return err_set(HSMCA_E_INVALID, "the certificate's signature digest is unknown");
	return digest_sn(mdnid, out, outsz);
}

/* One definite-length constructed SEQUENCE header at *p (within end): *body_len, *p past it. */
static int
der_sequence(const unsigned char **p, const unsigned char *end, long *body_len)
{
	int tag = 0, xclass = 0, ret;

	if (end <= *p)
		return 0;
	ret = ASN1_get_object(p, body_len, &tag, &xclass, (long)(end - *p));
	/* 0x80: error or a length past the buffer; 0x21: indefinite length. */
	return ret == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE && xclass == V_ASN1_UNIVERSAL &&
	    *body_len <= end - *p;
}

int
x509b_check_signed(const uint8_t *der, size_t len, const struct buf *tbs, EVP_PKEY *pub, char *digest,
    size_t digestsz)
{
	const unsigned char *p = der, *end = der + len, *tbs_start;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *sig = NULL;
	EVP_MD_CTX *md = NULL;
	int nid, mdnid = NID_undef, pknid = NID_undef, rc = HSMCA_E_INVALID;
	long body;

	digest[0] = '\0';
	if (len == 0 || len > (1u << 20) || !der_sequence(&p, end, &body) || p + body != end) {
		err_set(rc, "the signed certificate is not one DER SEQUENCE");
		goto out;
	}
	tbs_start = p;
	if (!der_sequence(&p, end, &body)) {
		err_set(rc, "the signed certificate has no TBSCertificate");
		goto out;
	}
	p += body;
	/* The token must have signed exactly what was built: every field the caller stores comes
	 * from its own TBS, so nothing else may have changed. */
	if ((size_t)(p - tbs_start) != tbs->len || memcmp(tbs_start, tbs->data, tbs->len) != 0) {
		err_set(rc, "the signed certificate does not carry the TBSCertificate that was built");
		goto out;
	}
	if ((alg = d2i_X509_ALGOR(NULL, &p, (long)(end - p))) == NULL ||
	    (sig = d2i_ASN1_BIT_STRING(NULL, &p, (long)(end - p))) == NULL || p != end) {
		err_set(rc, "the signed certificate's signature fields are malformed");
		goto out;
	}
	nid = OBJ_obj2nid(alg->algorithm);
	if ((nid != NID_sha256WithRSAEncryption && nid != NID_ecdsa_with_SHA256 && nid != NID_ecdsa_with_SHA384) ||
	    !OBJ_find_sigid_algs(nid, &mdnid, &pknid)) {
		err_set(rc, "the signed certificate uses an unexpected signature algorithm");
		goto out;
	}
	/* A BIT STRING signature has no unused bits (RFC 5280 4.1.1.3); X509_verify says the same. */
	if ((sig->flags & 0x07) != 0 || sig->length <= 0) {
		err_set(rc, "the signed certificate's signature has unused bits");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_get_digestbynid(mdnid), NULL, pub) != 1 ||
	    EVP_DigestVerify(md, sig->data, (size_t)sig->length, tbs->data, tbs->len) != 1) {
		err_set(rc, "the certificate's signature does not verify with the issuer's key");
		goto out;
	}
	rc = digest_sn(mdnid, digest, digestsz);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	ASN1_BIT_STRING_free(sig);
	X509_ALGOR_free(alg);
	return rc;
}

int
x509b_der_to_pem(const uint8_t *der, size_t len, struct buf *out)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	BUF_MEM *mem;
	uint8_t *grown;
	int rc;

	if ((rc = x509b_parse_cert(der, len, &x)) != 0)
		return rc;
	rc = HSMCA_E_NOMEM;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(bio, x))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	if ((grown = realloc(out->data, out->len + mem->length + 1)) == NULL)
		goto out;
	memcpy(grown + out->len, mem->data, mem->length);
	out->data = grown;
	out->len += mem->length;
	out->data[out->len] = '\0';
	rc = 0;
out:
	BIO_free(bio);
	X509_free(x);
	return rc;
}
