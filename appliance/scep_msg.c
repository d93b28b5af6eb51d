/*
 * scep_msg.c: pure parser of SCEP pkiMessages (RFC 8894), see scep_msg.h.
 *
 * May call: OpenSSL's ASN.1, CMS, PKCS#7 and X.509 decoders, and the decrypt callback it is
 * given. Must never: do I/O, touch the database or the token, keep state between calls, or log
 * the challengePassword.
 *
 * Order of checks: outer structure, then the SCEP attributes (so that a FAILURE CertRep can be
 * addressed as early as possible), then algorithms, then the signature, and only after the
 * signature verified do we spend a private-key operation on the envelope. An attacker without a
 * valid signature therefore never reaches the token.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "err.h"
#include "scep_msg.h"

/* SCEP attribute OIDs, id-VeriSign pki attributes (RFC 8894 §3.2.1). */
#define OID_MESSAGE_TYPE    "2.16.840.1.113733.1.9.2"
#define OID_SENDER_NONCE    "2.16.840.1.113733.1.9.5"
#define OID_TRANSACTION_ID  "2.16.840.1.113733.1.9.7"

/* RSA moduli we accept for the signer: old devices still use 1024 bits; the upper bound keeps
 * one request from costing seconds of CPU in the verification. */
#define SCEP_RSA_MIN_BITS   1024
#define SCEP_RSA_MAX_BITS   8192

/* An envelope addressed to more recipients than this is not from a SCEP client (micromdm's
 * library encrypts to every certificate of GetCACert: RA, CA and chain). */
#define SCEP_MAX_RECIPIENTS 16

static const struct {
	const char *wire;
	enum scep_msg_type type;
} msg_types[] = {
	{ "19", SCEP_MSG_PKCSREQ },
	{ "17", SCEP_MSG_RENEWALREQ },
	{ "20", SCEP_MSG_CERTPOLL },
	{ "21", SCEP_MSG_GETCERT },
	{ "22", SCEP_MSG_GETCRL },
};

const char *
scep_msg_type_name(enum scep_msg_type type)
{
	static const char *const names[SCEP_MSG__MAX] = {
		"PKCSReq", "RenewalReq", "CertPoll", "GetCert", "GetCRL", "CertRep"
	};

	if ((unsigned)type >= SCEP_MSG__MAX)
		return "?";
	return names[type];
}

int
scep_msg_type_wire(enum scep_msg_type type)
{
	static const int wire[SCEP_MSG__MAX] = { 19, 17, 20, 21, 22, 3 };

	if ((unsigned)type >= SCEP_MSG__MAX)
		return -1;
	return wire[type];
}

const char *
scep_fail_name(enum scep_fail fail)
{
	static const char *const names[SCEP_FAIL__MAX] = {
		"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId"
	};

	if ((unsigned)fail >= SCEP_FAIL__MAX)
		return "?";
	return names[fail];
}

const char *
scep_status_name(enum scep_status status)
{
	static const char *const names[SCEP_STATUS__MAX] = { "SUCCESS", "FAILURE", "PENDING" };

	if ((unsigned)status >= SCEP_STATUS__MAX)
		return "?";
	return names[status];
}

int
scep_status_wire(enum scep_status status)
{
	static const int wire[SCEP_STATUS__MAX] = { 0, 2, 3 };

	if ((unsigned)status >= SCEP_STATUS__MAX)
		return -1;
	return wire[status];
}

void
scep_msg_free(struct scep_msg *msg)
{
	if (msg == NULL)
		return;
	buf_free(&msg->signer_cert);
	X509_free(msg->signer);
	buf_free(&msg->content);
	buf_free(&msg->issuer);
	buf_free(&msg->subject);
	buf_free(&msg->serial);
	if (msg->challenge != NULL)
		OPENSSL_clear_free(msg->challenge, msg->challenge_len + 1);
	OPENSSL_cleanse(msg, sizeof(*msg));
	free(msg);
}

/* Records a rejection: the failInfo for the client and a detail for the log. */
static int
reject(struct scep_msg *msg, enum scep_fail fail, const char *why)
{
	msg->fail = fail;
	return err_set(HSMCA_E_INVALID, "SCEP %s: %s", scep_fail_name(fail), why);
}

static int
obj_is(const ASN1_OBJECT *obj, const char *oid)
{
	char txt[80];

	if (OBJ_obj2txt(txt, sizeof(txt), obj, 1) <= 0)
		return 0;
	return strcmp(txt, oid) == 0;
}

/* The single value of a signed attribute, of the given universal type; NULL otherwise. */
static const ASN1_STRING *
attr_single_value(X509_ATTRIBUTE *attr, int type)
{
	ASN1_TYPE *v;

	if (X509_ATTRIBUTE_count(attr) != 1)
		return NULL;
	v = X509_ATTRIBUTE_get0_type(attr, 0);
	if (v == NULL || v->type != type)
		return NULL;
	return v->value.asn1_string;
}

/*
 * RFC 8894 §3.2.1.2-§3.2.1.5: messageType, transactionID and senderNonce, each exactly once
 * with its type. Other attributes (contentType, messageDigest, signingTime, ...) are CMS's; a
 * duplicate of a SCEP attribute is refused, since two readers could pick different ones.
 */
static int
read_scep_attrs(CMS_SignerInfo *si, struct scep_msg *msg)
{
	int i, n, seen_type = 0, seen_tid = 0, seen_nonce = 0;
	const ASN1_STRING *s;
	int msg_type_ok = 0;
	size_t k;

	n = CMS_signed_get_attr_count(si);
	if (n <= 0)
		return reject(msg, SCEP_FAIL_BADREQUEST, "no signed attributes (RFC 8894 §3.2.1)");
	for (i = 0; i < n; i++) {
		X509_ATTRIBUTE *attr = CMS_signed_get_attr(si, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(attr);

		if (obj_is(obj, OID_MESSAGE_TYPE)) {
			if (seen_type++)
				return reject(msg, SCEP_FAIL_BADREQUEST, "messageType twice (RFC 8894 §3.2.1.2)");
			s = attr_single_value(attr, V_ASN1_PRINTABLESTRING);
			if (s == NULL)
				return reject(msg, SCEP_FAIL_BADREQUEST,
				    "messageType is not one PrintableString (RFC 8894 §3.2.1.2)");
			for (k = 0; k < sizeof(msg_types) / sizeof(msg_types[0]); k++) {
				if ((size_t)s->length == strlen(msg_types[k].wire) &&
				    memcmp(s->data, msg_types[k].wire, (size_t)s->length) == 0) {
					msg->type = msg_types[k].type;
					msg_type_ok = 1;
				}
			}
		} else if (obj_is(obj, OID_TRANSACTION_ID)) {
			if (seen_tid++)
				return reject(msg, SCEP_FAIL_BADREQUEST, "transactionID twice (RFC 8894 §3.2.1.1)");
			s = attr_single_value(attr, V_ASN1_PRINTABLESTRING);
			if (s == NULL || s->length < 1 || s->length > SCEP_TRANSID_MAX)
				return reject(msg, SCEP_FAIL_BADREQUEST,
				    "transactionID is not one PrintableString of 1-128 characters (RFC 8894 §3.2.1.1)");
			/* Opaque (clients send base64, hex or decimal), but it reaches logs and the
			 * database: printable ASCII only. */
			for (k = 0; k < (size_t)s->length; k++) {
				if (s->data[k] < 0x20 || s->data[k] > 0x7e)
					return reject(msg, SCEP_FAIL_BADREQUEST,
					    "transactionID has a non-printable byte (RFC 8894 §3.2.1.1)");
			}
			memcpy(msg->transaction_id, s->data, (size_t)s->length);
			msg->transaction_id[s->length] = '\0';
		} else if (obj_is(obj, OID_SENDER_NONCE)) {
			if (seen_nonce++)
				return reject(msg, SCEP_FAIL_BADREQUEST, "senderNonce twice (RFC 8894 §3.2.1.5)");
			s = attr_single_value(attr, V_ASN1_OCTET_STRING);
			if (s == NULL || s->length != SCEP_NONCE_LEN)
				return reject(msg, SCEP_FAIL_BADREQUEST,
				    "senderNonce is not one 16-byte OCTET STRING (RFC 8894 §3.2.1.5)");
			memcpy(msg->sender_nonce, s->data, SCEP_NONCE_LEN);
		}
	}
	if (seen_tid != 1 || seen_nonce != 1)
		return reject(msg, SCEP_FAIL_BADREQUEST,
		    "transactionID or senderNonce missing (RFC 8894 §3.2.1.1, §3.2.1.5)");
	/* From here on the client can be answered with a FAILURE CertRep. */
	msg->replyable = 1;
	if (seen_type != 1)
		return reject(msg, SCEP_FAIL_BADREQUEST, "messageType missing (RFC 8894 §3.2.1.2)");
	if (!msg_type_ok)
		return reject(msg, SCEP_FAIL_BADREQUEST, "unsupported messageType (RFC 8894 §3.2.1.2)");
	return 0;
}

/* Digest and signature algorithms of the SignerInfo, and the signer key (RSA: the CertRep is
 * encrypted to it, RFC 8894 §3.1). */
static int
check_algs(CMS_SignerInfo *si, struct scep_msg *msg)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	EVP_PKEY *pk = NULL;
	X509 *signer = NULL;
	const ASN1_OBJECT *obj;
	int dnid, snid, bits;

	CMS_SignerInfo_get0_algs(si, &pk, &signer, &dig, &sig);
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	dnid = OBJ_obj2nid(obj);
	X509_ALGOR_get0(&obj, NULL, NULL, sig);
	snid = OBJ_obj2nid(obj);
	switch (dnid) {
	case NID_sha1:
		strcpy(msg->digest, "sha1");
		break;
	case NID_sha256:
		strcpy(msg->digest, "sha256");
		break;
	case NID_sha512:
		strcpy(msg->digest, "sha512");
		break;
	default:
		return reject(msg, SCEP_FAIL_BADALG, "digest is not SHA-1, SHA-256 or SHA-512 (RFC 8894 §3.5.2)");
	}
	/* rsaEncryption (sscep, certmonger) or the hash-specific OID, which must then agree with
	 * the digest (micromdm sends sha1WithRSAEncryption with SHA-1). */
	if (!(snid == NID_rsaEncryption ||
	    (snid == NID_sha1WithRSAEncryption && dnid == NID_sha1) ||
	    (snid == NID_sha256WithRSAEncryption && dnid == NID_sha256) ||
	    (snid == NID_sha512WithRSAEncryption && dnid == NID_sha512)))
		return reject(msg, SCEP_FAIL_BADALG, "signature algorithm is not RSA with the message digest");
	if (signer == NULL)
		return reject(msg, SCEP_FAIL_BADREQUEST,
		    "the signer certificate is not in the message (RFC 8894 §3.2.1)");
	pk = X509_get0_pubkey(signer);
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return reject(msg, SCEP_FAIL_BADALG, "the signer key is not RSA (RFC 8894 §3.1)");
	bits = EVP_PKEY_get_bits(pk);
	if (bits < SCEP_RSA_MIN_BITS || bits > SCEP_RSA_MAX_BITS)
		return reject(msg, SCEP_FAIL_BADALG, "the signer RSA key size is out of range");
	return 0;
}

static int
read_signing_time(CMS_SignerInfo *si, struct scep_msg *msg, time_t now, long max_skew_s)
{
	int idx;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *v;
	struct tm tm;
	time_t t;

	idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	if (idx < 0)
		return 0;
	if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, idx) >= 0)
		return reject(msg, SCEP_FAIL_BADREQUEST, "signingTime twice");
	attr = CMS_signed_get_attr(si, idx);
	if (X509_ATTRIBUTE_count(attr) != 1)
		return reject(msg, SCEP_FAIL_BADREQUEST, "signingTime has not one value");
	v = X509_ATTRIBUTE_get0_type(attr, 0);
	if (v == NULL || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME) ||
	    !ASN1_TIME_to_tm(v->value.utctime, &tm))
		return reject(msg, SCEP_FAIL_BADREQUEST, "signingTime is not a valid time");
	t = timegm(&tm);
	msg->signing_time = t;
	if (now != 0 && (t > now + max_skew_s || t < now - max_skew_s))
		return reject(msg, SCEP_FAIL_BADTIME, "signingTime too far from our clock (RFC 8894 §3.2.1.4.5)");
	return 0;
}

/*
 * The signed content must be a ContentInfo(EnvelopedData) (pkcsPKIEnvelope, RFC 8894 §3.2.2)
 * whose content-encryption algorithm is on our list. PKCS7's structures are public, CMS's are
 * not, so the algorithm is read through d2i_PKCS7.
 */
static int
check_envelope(const uint8_t *env, size_t env_len, struct scep_msg *msg)
{
	PKCS7 *p7 = NULL;
	const uint8_t *p = env;
	const ASN1_OBJECT *obj;
	int rc, n;

	if (env_len == 0 || env_len > SCEP_MSG_MAX_BYTES) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "no pkcsPKIEnvelope (RFC 8894 §3.2.2)");
		goto out;
	}
	p7 = d2i_PKCS7(NULL, &p, (long)env_len);
	if (p7 == NULL || p != env + env_len) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "pkcsPKIEnvelope is not DER ContentInfo (RFC 8894 §3.2.2)");
		goto out;
	}
	if (!PKCS7_type_is_enveloped(p7) || p7->d.enveloped == NULL ||
	    p7->d.enveloped->enc_data == NULL || p7->d.enveloped->enc_data->algorithm == NULL ||
	    p7->d.enveloped->enc_data->enc_data == NULL) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "pkcsPKIEnvelope is not EnvelopedData (RFC 8894 §3.2.2)");
		goto out;
	}
	n = sk_PKCS7_RECIP_INFO_num(p7->d.enveloped->recipientinfo);
	if (n < 1 || n > SCEP_MAX_RECIPIENTS) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "EnvelopedData recipient count out of range");
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, p7->d.enveloped->enc_data->algorithm);
	switch (OBJ_obj2nid(obj)) {
	case NID_aes_128_cbc:
		strcpy(msg->cipher, "aes-128-cbc");
		break;
	case NID_aes_256_cbc:
		strcpy(msg->cipher, "aes-256-cbc");
		break;
	case NID_des_ede3_cbc:
		strcpy(msg->cipher, "des-ede3-cbc");
		break;
	case NID_des_cbc:
		/* Single DES: only old devices (RFC 8894 §3.5.2 keeps it for them). */
		strcpy(msg->cipher, "des-cbc");
		break;
	default:
		rc = reject(msg, SCEP_FAIL_BADALG,
		    "envelope cipher is not AES-128/256-CBC, 3DES or DES (RFC 8894 §3.5.2)");
		goto out;
	}
	rc = 0;
out:
	PKCS7_free(p7);
	return rc;
}

/* An outer SEQUENCE spanning exactly [der, der+len); *body and *end delimit its contents.
 * Indefinite lengths (BER) are refused. */
static int
der_sequence(const uint8_t *der, size_t len, const uint8_t **body, const uint8_t **end)
{
	const uint8_t *p = der;
	long inner;
	int tag, cls, ret;

	if (len == 0 || len > SCEP_MSG_MAX_BYTES)
		return HSMCA_E_INVALID;
	ret = ASN1_get_object(&p, &inner, &tag, &cls, (long)len);
	if ((ret & 0x80) || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL)
		return HSMCA_E_INVALID;
	if (inner < 0 || (size_t)(p - der) + (size_t)inner != len)
		return HSMCA_E_INVALID;
	*body = p;
	*end = p + inner;
	return 0;
}

/* One Name from [*p, end): its DER bytes, as sent, into out. */
static int
take_name(const uint8_t **p, const uint8_t *end, struct buf *out)
{
	const uint8_t *start = *p;
	X509_NAME *name;

	name = d2i_X509_NAME(NULL, p, end - *p);
	if (name == NULL)
		return HSMCA_E_INVALID;
	X509_NAME_free(name);
	return buf_set(out, start, (size_t)(*p - start));
}

int
scep_parse_issuer_and_subject(const uint8_t *der, size_t len, struct buf *issuer, struct buf *subject)
{
	const uint8_t *p, *end;
	int rc;

	buf_free(issuer);
	buf_free(subject);
	if ((rc = der_sequence(der, len, &p, &end)) != 0 ||
	    (rc = take_name(&p, end, issuer)) != 0 ||
	    (rc = take_name(&p, end, subject)) != 0)
		goto fail;
	if (p != end) {
		rc = HSMCA_E_INVALID;
		goto fail;
	}
	return 0;
fail:
	buf_free(issuer);
	buf_free(subject);
	ERR_clear_error();
	return rc == HSMCA_E_NOMEM ? rc :
	    err_set(HSMCA_E_INVALID, "not a DER IssuerAndSubject (RFC 8894 §3.3.3)");
}

int
scep_parse_issuer_and_serial(const uint8_t *der, size_t len, struct buf *issuer, struct buf *serial)
{
	const uint8_t *p, *end, *start;
	ASN1_INTEGER *ai = NULL;
	int rc;

	buf_free(issuer);
	buf_free(serial);
	if ((rc = der_sequence(der, len, &p, &end)) != 0 || (rc = take_name(&p, end, issuer)) != 0)
		goto fail;
	start = p;
	ai = d2i_ASN1_INTEGER(NULL, &p, end - p);
	/* RFC 5280 serials are at most 20 octets; allow some slack for sloppy CAs, no more. */
	if (ai == NULL || p != end || ASN1_STRING_length(ai) < 1 || ASN1_STRING_length(ai) > 32) {
		rc = HSMCA_E_INVALID;
		goto fail;
	}
	if ((rc = buf_set(serial, start, (size_t)(p - start))) != 0)
		goto fail;
	ASN1_INTEGER_free(ai);
	return 0;
fail:
	ASN1_INTEGER_free(ai);
	buf_free(issuer);
	buf_free(serial);
	ERR_clear_error();
	return rc == HSMCA_E_NOMEM ? rc :
	    err_set(HSMCA_E_INVALID, "not a DER IssuerAndSerialNumber (RFC 8894 §3.3.4)");
}

/* One TLV of [*p, end) of class cls, tag and form (V_ASN1_CONSTRUCTED or 0 for primitive),
 * definite length: *p moves past it, *body and *body_end delimit its contents. */
static int
take_tlv(const uint8_t **p, const uint8_t *end, int cls, int tag, int form, const uint8_t **body,
    const uint8_t **body_end)
{
	const uint8_t *q = *p;
	long len;
	int t, c, ret;

	if (*p >= end)
		return HSMCA_E_INVALID;
	ret = ASN1_get_object(&q, &len, &t, &c, end - *p);
	if ((ret & 0x80) || ret != form || t != tag || c != cls || len < 0 || len > end - q)
		return HSMCA_E_INVALID;
	*body = q;
	*body_end = q + len;
	*p = q + len;
	return 0;
}

/*
 * The framing of a CertificationRequest (RFC 2986 §4.2): SEQUENCE { SEQUENCE { version INTEGER,
 * subject Name, subjectPKInfo SEQUENCE, attributes [0] (optional, as OpenSSL reads it) },
 * signatureAlgorithm SEQUENCE, signature BIT STRING }, with the subject's DER into subject and
 * [*attrs, *attrs_end) the attributes' contents (empty when absent). The key and signature are
 * left to csr_parse, which every enrollment runs: decoding the whole request here as well cost
 * ~1.5 M instructions per enrollment, most of it the public key.
 */
static int
csr_frame(const uint8_t *der, size_t len, struct buf *subject, const uint8_t **attrs,
    const uint8_t **attrs_end)
{
	const uint8_t *p, *end, *info, *info_end, *b, *be;
	int rc;

	if (der_sequence(der, len, &p, &end) != 0 ||
	    take_tlv(&p, end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &info, &info_end) != 0 ||
	    take_tlv(&p, end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &b, &be) != 0 ||
	    take_tlv(&p, end, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, 0, &b, &be) != 0 || p != end)
		return HSMCA_E_INVALID;
	p = info;
	if (take_tlv(&p, info_end, V_ASN1_UNIVERSAL, V_ASN1_INTEGER, 0, &b, &be) != 0)
		return HSMCA_E_INVALID;
	if ((rc = take_name(&p, info_end, subject)) != 0)
		return rc;
	if (take_tlv(&p, info_end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, V_ASN1_CONSTRUCTED, &b, &be) != 0)
		return HSMCA_E_INVALID;
	*attrs = *attrs_end = info_end;
	if (p < info_end && take_tlv(&p, info_end, V_ASN1_CONTEXT_SPECIFIC, 0, V_ASN1_CONSTRUCTED, attrs,
	    attrs_end) != 0)
		return HSMCA_E_INVALID;
	return p == info_end ? 0 : HSMCA_E_INVALID;
}

int
scep_csr_challenge(const uint8_t *csr_der, size_t len, uint8_t **challenge, size_t *challenge_len,
    struct buf *subject)
{
	struct buf name = { 0 };
	X509_ATTRIBUTE *attr = NULL, *a = NULL;
	const uint8_t *q, *attrs, *attrs_end;
	ASN1_TYPE *v;
	uint8_t *copy = NULL;
	int rc = HSMCA_E_INVALID, n;

	*challenge = NULL;
	*challenge_len = 0;
	if (subject != NULL)
		buf_free(subject);
	if (len == 0 || len > SCEP_MSG_MAX_BYTES) {
		rc = err_set(HSMCA_E_INVALID, "CSR size out of range");
		goto out;
	}
	if ((rc = csr_frame(csr_der, len, &name, &attrs, &attrs_end)) != 0) {
		if (rc == HSMCA_E_INVALID)
			err_set(rc, "messageData is not a DER PKCS#10 request (RFC 8894 §3.3.1)");
		goto out;
	}
	for (q = attrs; q < attrs_end; a = NULL) {
		if ((a = d2i_X509_ATTRIBUTE(NULL, &q, attrs_end - q)) == NULL) {
			rc = err_set(HSMCA_E_INVALID, "messageData is not a DER PKCS#10 request (RFC 8894 §3.3.1)");
			goto out;
		}
		if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a)) != NID_pkcs9_challengePassword) {
			X509_ATTRIBUTE_free(a);
			continue;
		}
		if (attr != NULL) {
			rc = err_set(HSMCA_E_INVALID, "CSR has two challengePassword attributes");
			goto out;
		}
		attr = a;
	}
	if (attr == NULL) {
		rc = 0;
		goto out;
	}
	v = X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
	/* PKCS#9 says DirectoryString; clients use these three, and certmonger tags PrintableString
	 * around characters PrintableString does not allow: take the bytes as they are. */
	if (v == NULL || (v->type != V_ASN1_PRINTABLESTRING && v->type != V_ASN1_UTF8STRING &&
	    v->type != V_ASN1_IA5STRING)) {
		rc = err_set(HSMCA_E_INVALID, "CSR challengePassword is not one Printable, UTF8 or IA5 string");
		goto out;
	}
	n = ASN1_STRING_length(v->value.asn1_string);
	if (n < 1 || n > SCEP_CHALLENGE_MAX ||
	    memchr(ASN1_STRING_get0_data(v->value.asn1_string), '\0', (size_t)n) != NULL) {
		rc = err_set(HSMCA_E_INVALID, "CSR challengePassword length out of range or has a NUL byte");
		goto out;
	}
	copy = OPENSSL_malloc((size_t)n + 1);
	if (copy == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	memcpy(copy, ASN1_STRING_get0_data(v->value.asn1_string), (size_t)n);
	copy[n] = '\0';
	*challenge = copy;
	*challenge_len = (size_t)n;
	copy = NULL;
	rc = 0;
out:
	if (rc == 0 && subject != NULL)
		*subject = name;
	else
		buf_free(&name);
	/* a is the attribute being looked at when the loop stopped early (attr: the challenge). */
	if (a != attr)
		X509_ATTRIBUTE_free(a);
	X509_ATTRIBUTE_free(attr);
	ERR_clear_error();
	return rc;
}

/* messageData by message type (RFC 8894 §3.3). */
static int
read_content(struct scep_msg *msg)
{
	int rc;

	switch (msg->type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		rc = scep_csr_challenge(msg->content.data, msg->content.len, &msg->challenge,
		    &msg->challenge_len, &msg->subject);
		break;
	case SCEP_MSG_CERTPOLL:
		rc = scep_parse_issuer_and_subject(msg->content.data, msg->content.len, &msg->issuer,
		    &msg->subject);
		break;
	case SCEP_MSG_GETCERT:
	case SCEP_MSG_GETCRL:
		rc = scep_parse_issuer_and_serial(msg->content.data, msg->content.len, &msg->issuer,
		    &msg->serial);
		break;
	default:
		rc = HSMCA_E_INVALID;
		break;
	}
	if (rc == HSMCA_E_INVALID)
		msg->fail = SCEP_FAIL_BADREQUEST;
	return rc;
}

int
scep_msg_parse(const uint8_t *der, size_t len, const struct scep_keyops *ops, time_t now,
    long max_skew_s, struct scep_msg **out)
{
	struct scep_msg *msg = NULL;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	X509 *signer = NULL;
	BIO *content = NULL;
	const uint8_t *p = der;
	const ASN1_OBJECT *ctype;
	uint8_t *env, *cert_der = NULL;
	long env_len;
	int rc = HSMCA_E_INTERNAL, n;

	*out = NULL;
	msg = calloc(1, sizeof(*msg));
	if (msg == NULL)
		return HSMCA_E_NOMEM;
	msg->fail = SCEP_FAIL_BADREQUEST;
	msg->type = SCEP_MSG__MAX;

	if (len > SCEP_MSG_MAX_BYTES) {
		reject(msg, SCEP_FAIL_BADREQUEST, "message too large");
		rc = HSMCA_E_TOOLARGE;
		goto out;
	}
	/* §7: d2i only on a bounded buffer, and nothing may follow the structure. */
	cms = len > 0 ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	if (cms == NULL || p != der + len) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "not a DER ContentInfo (RFC 8894 §3.2)");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "not SignedData (RFC 8894 §3.2)");
		goto out;
	}
	ctype = CMS_get0_eContentType(cms);
	if (ctype == NULL || OBJ_obj2nid(ctype) != NID_pkcs7_data) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "SignedData content is not id-data (RFC 8894 §3.2)");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "not exactly one SignerInfo (RFC 8894 §3.2)");
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if ((rc = read_scep_attrs(si, msg)) != 0)
		goto out;
	/* Binds the SignerInfo to its certificate among those the message carries. */
	if (CMS_set1_signers_certs(cms, NULL, 0) < 0) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "signer certificates do not parse");
		goto out;
	}
	if ((rc = check_algs(si, msg)) != 0)
		goto out;
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	n = i2d_X509(signer, &cert_der);
	if (n <= 0) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "signer certificate cannot be encoded");
		goto out;
	}
	if ((rc = buf_set(&msg->signer_cert, cert_der, (size_t)n)) != 0)
		goto out;
	if (X509_up_ref(signer) != 1) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	msg->signer = signer;

	/* The signature over the signed attributes, and messageDigest over the content. The
	 * signer certificate is not chain-verified: for PKCSReq it is self-signed (§2.3), for
	 * RenewalReq the caller checks it against the CA. */
	content = BIO_new(BIO_s_mem());
	if (content == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (CMS_verify(cms, NULL, NULL, NULL, content, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
		rc = reject(msg, SCEP_FAIL_BADMESSAGECHECK, "signature does not verify (RFC 8894 §3.2)");
		goto out;
	}
	if ((rc = read_signing_time(si, msg, now, max_skew_s)) != 0)
		goto out;

	env_len = BIO_get_mem_data(content, (char **)&env);
	if ((rc = check_envelope(env, env_len > 0 ? (size_t)env_len : 0, msg)) != 0)
		goto out;
	if (ops == NULL || ops->decrypt == NULL) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "no key to open the envelope");
		goto out;
	}
	if ((rc = ops->decrypt(ops->arg, env, (size_t)env_len, &msg->content)) != 0) {
		buf_free(&msg->content);
		/* Anything but HSMCA_E_INVALID is our side, not the client's envelope (the RA key gone
		 * from the token, the token down): the client still hears badMessageCheck, the log
		 * keeps the key's own reason. */
		msg->fail = SCEP_FAIL_BADMESSAGECHECK;
		if (rc == HSMCA_E_INVALID)
			rc = reject(msg, SCEP_FAIL_BADMESSAGECHECK,
			    "envelope does not decrypt with our key (RFC 8894 §3.2.2)");
		goto out;
	}
	if (msg->content.len == 0 || msg->content.len > SCEP_MSG_MAX_BYTES) {
		rc = reject(msg, SCEP_FAIL_BADREQUEST, "messageData size out of range");
		goto out;
	}
	if ((rc = read_content(msg)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_drain_openssl();
	else
		ERR_clear_error();
	OPENSSL_free(cert_der);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	*out = msg;
	return rc;
}
