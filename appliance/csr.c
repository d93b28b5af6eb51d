/*
 * csr.c: PKCS#10 parse, signature check and key/SAN policy (see csr.h). PURE.
 *
 * May call: OpenSSL, err.h. Must never: do I/O, touch the database or the token, or log the
 * challengePassword. Every byte here comes from a client: bound first, then parse, and name
 * what is wrong in one line (a detail starting with "CSR").
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "csr.h"
#include "err.h"
#include "libctx.h"

/*
 * d2i_X509_REQ decodes the SubjectPublicKeyInfo into an EVP_PKEY on the way. In OpenSSL 3.0 that
 * builds an OSSL_DECODER context over every provider's decoders and key managers for each
 * request: perf put it at ~4.5% of the daemon's CPU under SCEP load and most of csr_parse's own
 * time. We decode the request in a library context that holds only the "null" provider, so that
 * attempt finds nothing at once and leaves the X509_PUBKEY without an EVP_PKEY; csr_check_key
 * then builds the key itself (RSA and EC only, the two we accept) in the default context. The
 * null-provider context is null_libctx (libctx.h), made once, so csr.c keeps no state.
 */

/* RSAPublicKey (RFC 8017 A.1.1). Its own template because d2i_RSAPublicKey is deprecated in
 * OpenSSL 3.0 and reads INTEGERs as unsigned (a negative or zero-padded modulus passed). The
 * ASN.1 macros need a typedef name. */
typedef struct csr_rsa_pub {
	ASN1_INTEGER *n;
	ASN1_INTEGER *e;
} CSR_RSA_PUB;

ASN1_SEQUENCE(CSR_RSA_PUB) = {
	ASN1_SIMPLE(CSR_RSA_PUB, n, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_RSA_PUB, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(CSR_RSA_PUB)

void
csr_free(struct csr *csr)
{
	if (csr == NULL)
		return;
	X509_REQ_free(csr->req);
	EVP_PKEY_free(csr->pkey);
	free(csr->subject);
	free(csr->common_name);
	GENERAL_NAMES_free(csr->sans);
	if (csr->challenge != NULL)
		OPENSSL_clear_free(csr->challenge, strlen(csr->challenge));
	free(csr);
}

/* Quotes client text in a detail only when it is short and printable ASCII, so a CSR cannot
 * inject control characters or megabytes into a log line. */
static const char *
printable(const char *s, size_t len)
{
	size_t i;

	if (len > 80)
		return "(too long to show)";
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return "(not printable)";
	return s;
}

int
csr_dns_name_ok(const char *name, size_t len)
{
	size_t i, label = 0;
	int all_digits_label = 1;

	if (len == 0 || len > 253)
		return 0;
	if (len >= 2 && name[0] == '*' && name[1] == '.') {
		/* A wildcard covers exactly one leftmost label (RFC 6125 6.4.3); it needs a real
		 * domain after it, not a TLD alone. */
		name += 2;
		len -= 2;
		if (memchr(name, '.', len) == NULL)
			return 0;
	}
	if (len == 0 || name[len - 1] == '.' || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
			all_digits_label = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (!(c >= '0' && c <= '9'))
			all_digits_label = 0;
		if (++label > 63)
			return 0;
	}
	if (name[len - 1] == '-')
		return 0;
	/* The last label of a host name is never all digits; that is an IP address. */
	return !all_digits_label;
}

static int
ia5_printable(const ASN1_IA5STRING *s, size_t max)
{
	int i;

	if (s == NULL || s->length <= 0 || (size_t)s->length > max)
		return 0;
	for (i = 0; i < s->length; i++)
		if (s->data[i] < 0x21 || s->data[i] > 0x7e)
			return 0;
	return 1;
}

/* Checks one requested SAN and appends a copy to out. */
static int
csr_take_san(const GENERAL_NAME *gn, GENERAL_NAMES *out)
{
	GENERAL_NAME *copy;
	const ASN1_IA5STRING *s;

	switch (gn->type) {
	case GEN_DNS:
		s = gn->d.dNSName;
		if (s == NULL || s->length <= 0 || !csr_dns_name_ok((const char *)s->data, (size_t)s->length))
			return err_set(HSMCA_E_POLICY, "CSR: subjectAltName DNS name '%.*s' is not a valid host name",
			    s != NULL && s->length > 0 ? s->length : 0,
			    s != NULL && s->length > 0 ? printable((const char *)s->data, (size_t)s->length) : "");
		break;
	case GEN_IPADD:
		if (gn->d.iPAddress == NULL || (gn->d.iPAddress->length != 4 && gn->d.iPAddress->length != 16))
			return err_set(HSMCA_E_POLICY, "CSR: subjectAltName IP address is neither IPv4 nor IPv6");
		break;
	case GEN_EMAIL:
		s = gn->d.rfc822Name;
		if (!ia5_printable(s, 254) || memchr(s->data, '@', (size_t)s->length) == NULL)
			return err_set(HSMCA_E_POLICY, "CSR: subjectAltName email address is malformed");
		break;
	case GEN_URI:
		if (!ia5_printable(gn->d.uniformResourceIdentifier, 2048) ||
		    memchr(gn->d.uniformResourceIdentifier->data, ':', (size_t)gn->d.uniformResourceIdentifier->length) == NULL)
			return err_set(HSMCA_E_POLICY, "CSR: subjectAltName URI is malformed");
		break;
	default:
		return err_set(HSMCA_E_POLICY, "CSR: subjectAltName of type %d is not supported "
		    "(DNS, IP, email and URI only)", gn->type);
	}
	copy = GENERAL_NAME_dup(gn);
	if (copy == NULL)
		return HSMCA_E_NOMEM;
	if (!sk_GENERAL_NAME_push(out, copy)) {
		GENERAL_NAME_free(copy);
		return HSMCA_E_NOMEM;
	}
	return 0;
}

static int
csr_read_sans(struct csr *csr)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *names = NULL;
	X509_EXTENSION *ext;
	int idx, i, rc = HSMCA_E_INTERNAL;

	/* X509_REQ_get_extensions answers NULL both for "none" and for a malformed extensionRequest;
	 * tell them apart by looking for the attribute itself. */
	exts = X509_REQ_get_extensions(csr->req);
	if (exts == NULL) {
		if (X509_REQ_get_attr_by_NID(csr->req, NID_ext_req, -1) >= 0 ||
		    X509_REQ_get_attr_by_NID(csr->req, NID_ms_ext_req, -1) >= 0)
			return err_set(HSMCA_E_INVALID, "CSR: the extensionRequest attribute is malformed");
		return 0;
	}
	idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (idx < 0) {
		rc = 0;
		goto out;
	}
	if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >= 0) {
		rc = err_set(HSMCA_E_INVALID, "CSR: more than one subjectAltName extension");
		goto out;
	}
	ext = X509v3_get_ext(exts, idx);
	names = X509V3_EXT_d2i(ext);
	if (names == NULL) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the subjectAltName extension is malformed");
		goto out;
	}
	if (sk_GENERAL_NAME_num(names) > CSR_MAX_SANS) {
		rc = err_set(HSMCA_E_POLICY, "CSR: %d subjectAltNames (at most %d)", sk_GENERAL_NAME_num(names),
		    CSR_MAX_SANS);
		goto out;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++)
		if ((rc = csr_take_san(sk_GENERAL_NAME_value(names, i), csr->sans)) != 0)
			goto out;
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* Builds a public key of type name ("RSA", "EC") in the default context from params. */
static int
csr_pkey_fromdata(const char *name, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *pctx;
	int ok;

	pctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	ok = pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : err_set(HSMCA_E_INVALID, "CSR: the public key cannot be decoded");
}

/* rsaEncryption: the BIT STRING holds exactly one DER RSAPublicKey. Its parameters are not read
 * (OpenSSL never did; the certificate gets NULL there, x509_build.c). */
static int
csr_rsa_key(struct csr *csr, const unsigned char *der, int len)
{
	CSR_RSA_PUB *pub = NULL;
	const unsigned char *p = der;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int bits, rc = HSMCA_E_NOMEM;

	pub = (CSR_RSA_PUB *)ASN1_item_d2i(NULL, &p, len, ASN1_ITEM_rptr(CSR_RSA_PUB));
	if (pub == NULL || p != der + len) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the public key cannot be decoded");
		goto out;
	}
	/* The certificate carries these bytes as they are; other parsers (Go's, for one) refuse a
	 * negative modulus, and an even one or an exponent of 1 or even is no RSA key at all (with
	 * e = 1 anyone can "sign": the signature would prove nothing). */
	if ((n = ASN1_INTEGER_to_BN(pub->n, NULL)) == NULL || (e = ASN1_INTEGER_to_BN(pub->e, NULL)) == NULL)
		goto out;
	if (BN_is_negative(n) || !BN_is_odd(n)) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the RSA modulus is %s", BN_is_negative(n) ? "negative" : "even");
		goto out;
	}
	bits = BN_num_bits(n);
	if (bits < 2048) {
		rc = err_set(HSMCA_E_POLICY, "CSR: RSA key of %d bits is too small (minimum 2048)", bits);
		goto out;
	}
	if (bits > 8192) {
		rc = err_set(HSMCA_E_POLICY, "CSR: RSA key of %d bits is too large (maximum 8192)", bits);
		goto out;
	}
	/* 256 bits is FIPS 186-5's bound; real keys use 65537, a few old ones 3. */
	if (BN_is_negative(e) || !BN_is_odd(e) || BN_is_one(e) || BN_num_bits(e) > 256) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the RSA public exponent must be odd, at least 3 and at most 256 bits");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((rc = csr_pkey_fromdata("RSA", params, &csr->pkey)) != 0)
		goto out;
	csr->key_type = CSR_KEY_RSA;
	csr->key_bits = bits;
	snprintf(csr->key_algorithm, sizeof(csr->key_algorithm), "rsa-%d", bits);
	rc = 0;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	ASN1_item_free((ASN1_VALUE *)pub, ASN1_ITEM_rptr(CSR_RSA_PUB));
	return rc;
}

/* id-ecPublicKey: a namedCurve OID (RFC 5480 2.1.1) and the point's octets, which the default
 * provider checks are on the curve. */
static int
csr_ec_key(struct csr *csr, const X509_ALGOR *alg, const unsigned char *point, int len)
{
	OSSL_PARAM params[3];
	const void *pval;
	const char *curve;
	char group[64];
	size_t glen = 0;
	int ptype, nid, bits, rc;

	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype == V_ASN1_SEQUENCE)
		return err_set(HSMCA_E_POLICY, "CSR: EC key with explicit curve parameters is not supported (use the named curves P-256 or P-384)");
	if (ptype != V_ASN1_OBJECT)
		return err_set(HSMCA_E_INVALID, "CSR: the public key cannot be decoded");
	nid = OBJ_obj2nid(pval);
	/* OpenSSL 3.0 keeps SM2-curve keys apart from EC ones (type SM2): refused as a key type. */
	if (nid == NID_sm2)
		return err_set(HSMCA_E_POLICY, "CSR: this key type is not supported (use RSA 2048-8192 or EC P-256/P-384)");
	if ((curve = OSSL_EC_curve_nid2name(nid)) == NULL)
		return err_set(HSMCA_E_INVALID, "CSR: the public key cannot be decoded");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, (size_t)len);
	params[2] = OSSL_PARAM_construct_end();
	if ((rc = csr_pkey_fromdata("EC", params, &csr->pkey)) != 0)
		return rc;
	bits = EVP_PKEY_get_bits(csr->pkey);
	if (!EVP_PKEY_get_utf8_string_param(csr->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen))
		return err_set(HSMCA_E_INVALID, "CSR: the public key cannot be decoded");
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
		csr->key_bits = 256;
	} else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
		csr->key_bits = 384;
	} else {
		return err_set(HSMCA_E_POLICY, "CSR: EC curve %s (%d bits) is not supported (P-256 or P-384 only)",
		    printable(group, strlen(group)), bits);
	}
	csr->key_type = CSR_KEY_EC;
	snprintf(csr->key_algorithm, sizeof(csr->key_algorithm), "ec-%d", csr->key_bits);
	return 0;
}

/* Key policy: RSA 2048..8192, EC P-256/P-384. The message names the key so the requester knows
 * what to change. Sets csr->pkey (see null_libctx above for why it is not X509_REQ_get0_pubkey). */
static int
csr_check_key(struct csr *csr)
{
	X509_PUBKEY *xpk;
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *palg = NULL;
	const unsigned char *bits = NULL;
	char name[80];
	int nbits = 0;

	xpk = X509_REQ_get_X509_PUBKEY(csr->req);
	if (xpk == NULL || !X509_PUBKEY_get0_param(&alg, &bits, &nbits, &palg, xpk) || alg == NULL || palg == NULL)
		return err_set(HSMCA_E_INVALID, "CSR: no public key");
	switch (OBJ_obj2nid(alg)) {
	case NID_ED25519:
		return err_set(HSMCA_E_POLICY, "CSR: Ed25519 keys are not supported yet (use RSA 2048-8192 or EC P-256/P-384)");
	case NID_ED448:
		return err_set(HSMCA_E_POLICY, "CSR: Ed448 keys are not supported (use RSA 2048-8192 or EC P-256/P-384)");
	case NID_rsaEncryption:
		return csr_rsa_key(csr, bits, nbits);
	case NID_X9_62_id_ecPublicKey:
		return csr_ec_key(csr, palg, bits, nbits);
	default:
		OBJ_obj2txt(name, sizeof(name), alg, 0);
		return err_set(HSMCA_E_POLICY, "CSR: %s keys are not supported (use RSA 2048-8192 or EC P-256/P-384)", name);
	}
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF): names end up in JSON
 * and the database as text, so broken sequences are refused here rather than mangled later. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	unsigned int cp;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
csr_read_subject(struct csr *csr)
{
	const X509_NAME *name = X509_REQ_get_subject_name(csr->req);
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	int idx, n, rc = HSMCA_E_NOMEM;

	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		goto out;
	/* RFC 2253 order and escaping, but UTF-8 kept as UTF-8 rather than \XX escapes. */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the subject cannot be printed");
		goto out;
	}
	BIO_get_mem_ptr(bio, &mem);
	/* An empty subject leaves the BIO without a buffer at all (data NULL). */
	if (mem->length > 0 && (memchr(mem->data, '\0', mem->length) != NULL ||
	    !utf8_valid((unsigned char *)mem->data, mem->length))) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the subject is not valid UTF-8");
		goto out;
	}
	if ((csr->subject = mem->length > 0 ? strndup(mem->data, mem->length) : strdup("")) == NULL)
		goto out;
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx >= 0) {
		int next;

		while ((next = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
			idx = next;
		e = X509_NAME_get_entry(name, idx);
		n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (n < 0 || memchr(utf8, '\0', (size_t)n) != NULL || n > 64) {
			rc = err_set(HSMCA_E_INVALID, "CSR: the common name is malformed or longer than 64 characters");
			goto out;
		}
		if ((csr->common_name = strndup((const char *)utf8, (size_t)n)) == NULL)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_free(utf8);
	BIO_free(bio);
	return rc;
}

static int
csr_read_challenge(struct csr *csr)
{
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	unsigned char *utf8 = NULL;
	int idx, n;

	idx = X509_REQ_get_attr_by_NID(csr->req, NID_pkcs9_challengePassword, -1);
	if (idx < 0)
		return 0;
	attr = X509_REQ_get_attr(csr->req, idx);
	if (X509_REQ_get_attr_by_NID(csr->req, NID_pkcs9_challengePassword, idx) >= 0 ||
	    X509_ATTRIBUTE_count(attr) != 1)
		return err_set(HSMCA_E_INVALID, "CSR: challengePassword must appear once with one value");
	t = X509_ATTRIBUTE_get0_type(attr, 0);
	if (t == NULL || (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_UTF8STRING &&
	    t->type != V_ASN1_IA5STRING && t->type != V_ASN1_T61STRING && t->type != V_ASN1_BMPSTRING))
		return err_set(HSMCA_E_INVALID, "CSR: challengePassword is not a string");
	n = ASN1_STRING_to_UTF8(&utf8, t->value.asn1_string);
	if (n < 0 || n > 255 || memchr(utf8, '\0', (size_t)n) != NULL) {
		if (utf8 != NULL)
			OPENSSL_clear_free(utf8, (size_t)(n > 0 ? n : 0));
		return err_set(HSMCA_E_INVALID, "CSR: challengePassword is malformed");
	}
	csr->challenge = strndup((const char *)utf8, (size_t)n);
	OPENSSL_clear_free(utf8, (size_t)n);
	return csr->challenge != NULL ? 0 : HSMCA_E_NOMEM;
}

int
csr_parse(const uint8_t *der, size_t len, struct csr **out)
{
	struct csr *csr = NULL;
	const unsigned char *p = der;
	int rc = HSMCA_E_NOMEM;

	*out = NULL;
	if (len == 0)
		return err_set(HSMCA_E_INVALID, "CSR: empty");
	if (len > CSR_MAX_BYTES)
		return err_set(HSMCA_E_TOOLARGE, "CSR: %zu bytes (at most %d)", len, CSR_MAX_BYTES);
	if ((csr = calloc(1, sizeof(*csr))) == NULL)
		goto out;
	if ((csr->sans = sk_GENERAL_NAME_new_null()) == NULL)
		goto out;
	csr->req = (X509_REQ *)ASN1_item_d2i_ex(NULL, &p, (long)len, ASN1_ITEM_rptr(X509_REQ), null_libctx(), NULL);
	if (csr->req == NULL) {
		rc = err_set(HSMCA_E_INVALID, "CSR: not a PKCS#10 certificate request (DER or PEM)");
		goto out;
	}
	if (p != der + len) {
		rc = err_set(HSMCA_E_INVALID, "CSR: %zu trailing bytes after the request", (size_t)(der + len - p));
		goto out;
	}
	if (X509_REQ_get_version(csr->req) != X509_REQ_VERSION_1) {
		rc = err_set(HSMCA_E_INVALID, "CSR: version %ld is not 1", X509_REQ_get_version(csr->req) + 1);
		goto out;
	}
	if ((rc = csr_check_key(csr)) != 0)
		goto out;
	/* The signature proves possession of the private key and that nothing below was altered.
	 * The request belongs to the default context (only its X509_PUBKEY saw null_libctx); say so
	 * anyway, so the digest can never be fetched from the null provider. */
	if (X509_REQ_verify_ex(csr->req, csr->pkey, NULL, NULL) != 1) {
		rc = err_set(HSMCA_E_INVALID, "CSR: the signature does not verify (altered, or not signed by its key)");
		goto out;
	}
	if ((rc = csr_read_subject(csr)) != 0 || (rc = csr_read_sans(csr)) != 0 ||
	    (rc = csr_read_challenge(csr)) != 0)
		goto out;
	if (X509_NAME_entry_count(X509_REQ_get_subject_name(csr->req)) == 0 && sk_GENERAL_NAME_num(csr->sans) == 0) {
		rc = err_set(HSMCA_E_POLICY, "CSR: neither a subject nor a subjectAltName");
		goto out;
	}
	*out = csr;
	csr = NULL;
	rc = 0;
out:
	/* A rejected CSR leaves OpenSSL errors behind; they must not surface on a later request. */
	ERR_clear_error();
	csr_free(csr);
	return rc;
}

int
csr_to_der(const uint8_t *data, size_t len, struct buf *der)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long blen = 0;
	size_t i = 0;
	int rc = HSMCA_E_INTERNAL;

	der->data = NULL;
	der->len = 0;
	if (len > 4 * CSR_MAX_BYTES)
		return err_set(HSMCA_E_TOOLARGE, "CSR: %zu bytes is too large", len);
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (len - i < 10 || memcmp(data + i, "-----BEGIN", 10) != 0)
		return buf_set(der, data, len);
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return HSMCA_E_NOMEM;
	if (!PEM_read_bio(bio, &name, &header, &body, &blen)) {
		rc = err_set(HSMCA_E_INVALID, "CSR: malformed PEM");
		goto out;
	}
	if (strcmp(name, "CERTIFICATE REQUEST") != 0 && strcmp(name, "NEW CERTIFICATE REQUEST") != 0) {
		rc = err_set(HSMCA_E_INVALID, "CSR: PEM holds a '%s', not a CERTIFICATE REQUEST",
		    printable(name, strlen(name)));
		goto out;
	}
	rc = buf_set(der, body, (size_t)blen);
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(body);
	BIO_free(bio);
	return rc;
}
