/*
 * test_scep_msg.c: the pure pkiMessage parser against real client captures (certmonger,
 * micromdm's library, sscep), deterministic mutations of each, and hand-built messages for every
 * rejection path. Decryption runs in software with the fixture CA key through scep_keyops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "scep_msg.h"
#include "scep_testutil.h"

struct fx {
	OSSL_LIB_CTX *legacy;
	struct scept_sw_key ca;       /* fixture CA, legacy context (DES works) */
	struct scep_keyops ops;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->legacy = scept_legacy_ctx();
	f->ca.key = scept_load_key("ca.key");
	f->ca.cert = scept_load_cert("ca.pem");
	f->ca.ctx = f->legacy;
	assert_non_null(f->ca.key);
	assert_non_null(f->ca.cert);
	f->ops.decrypt = scept_sw_decrypt;
	f->ops.arg = &f->ca;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	EVP_PKEY_free(f->ca.key);
	X509_free(f->ca.cert);
	scept_legacy_free(f->legacy);
	free(f);
	return 0;
}

static void
assert_cn(const struct buf *name_der, const char *cn)
{
	const unsigned char *p = name_der->data;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)name_der->len);
	char got[256];

	assert_non_null(name);
	assert_true(X509_NAME_get_text_by_NID(name, NID_commonName, got, sizeof(got)) > 0);
	assert_string_equal(got, cn);
	X509_NAME_free(name);
}

/* Every capture parses with the values of the fixtures README. */
static void
test_fixtures_parse(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < SCEPT_N_FIXTURES; i++) {
		const struct scept_fixture *fx = &scept_fixtures[i];
		struct buf der = { 0 };
		struct scep_msg *msg = NULL;
		X509 *signer;
		const unsigned char *p;
		int rc;

		scept_load(fx->file, &der);
		rc = scep_msg_parse(der.data, der.len, &f->ops, 0, 0, &msg);
		if (rc != 0)
			fail_msg("%s: %s", fx->file, err_msg(rc));
		assert_non_null(msg);
		assert_int_equal(msg->type, SCEP_MSG_PKCSREQ);
		assert_string_equal(scep_msg_type_name(msg->type), "PKCSReq");
		assert_string_equal(msg->cipher, fx->cipher);
		assert_string_equal(msg->digest, fx->digest);
		assert_true(strlen(msg->transaction_id) > 0);
		assert_true(msg->replyable);
		assert_true(msg->signing_time > 0);
		assert_cn(&msg->subject, fx->cn);
		assert_non_null(msg->challenge);
		assert_int_equal(msg->challenge_len, strlen("fixture-secret"));
		assert_memory_equal(msg->challenge, "fixture-secret", msg->challenge_len);
		/* The signer certificate is exposed and is the one that signed (self-signed here). */
		p = msg->signer_cert.data;
		signer = d2i_X509(NULL, &p, (long)msg->signer_cert.len);
		assert_non_null(signer);
		assert_int_equal(X509_verify(signer, X509_get0_pubkey(signer)), 1);
		X509_free(signer);
		/* The content is the CSR itself. */
		p = msg->content.data;
		X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)msg->content.len);
		assert_non_null(req);
		assert_ptr_equal(p, msg->content.data + msg->content.len);
		X509_REQ_free(req);
		scep_msg_free(msg);
		buf_free(&der);
	}
}

/* The claim behind loading the legacy provider: single DES does not decrypt in the default
 * context, and does in a context with the legacy provider. */
static void
test_des_needs_legacy(void **state)
{
	struct fx *f = *state;
	struct scept_sw_key plain = { f->ca.key, f->ca.cert, NULL, 0 };
	struct scep_keyops ops = { scept_sw_decrypt, &plain };
	struct buf der = { 0 };
	struct scep_msg *msg = NULL;

	scept_load("sceppeer-des-post.der", &der);
	assert_int_equal(scep_msg_parse(der.data, der.len, &ops, 0, 0, &msg), HSMCA_E_INVALID);
	assert_int_equal(plain.calls, 1);
	assert_int_equal(msg->fail, SCEP_FAIL_BADMESSAGECHECK);
	assert_true(msg->replyable);
	scep_msg_free(msg);
	msg = NULL;
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, 0, 0, &msg), 0);
	scep_msg_free(msg);
	buf_free(&der);
}

/* Wrong key: badMessageCheck, and the transaction can still be answered. */
static void
test_wrong_recipient(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *other = scept_rsa(2048);
	X509 *other_cert = scept_cert("other", other, NULL, NULL, 1, NULL);
	struct scept_sw_key k = { other, other_cert, f->legacy, 0 };
	struct scep_keyops ops = { scept_sw_decrypt, &k };
	struct buf der = { 0 };
	struct scep_msg *msg = NULL;

	scept_load("sscep-aes-sha256-post.der", &der);
	assert_int_equal(scep_msg_parse(der.data, der.len, &ops, 0, 0, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADMESSAGECHECK);
	assert_true(msg->replyable);
	assert_true(strlen(msg->transaction_id) > 0);
	assert_null(msg->challenge);
	scep_msg_free(msg);
	/* No key at all. */
	msg = NULL;
	assert_int_equal(scep_msg_parse(der.data, der.len, NULL, 0, 0, &msg), HSMCA_E_INVALID);
	scep_msg_free(msg);
	buf_free(&der);
	X509_free(other_cert);
	EVP_PKEY_free(other);
}

/* signingTime: within the window passes, outside is badTime. */
static void
test_bad_time(void **state)
{
	struct fx *f = *state;
	struct buf der = { 0 };
	struct scep_msg *msg = NULL;
	time_t t;

	scept_load("certmonger-get.der", &der);
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, 0, 0, &msg), 0);
	t = msg->signing_time;
	scep_msg_free(msg);
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, t + 3600, 86400, &msg), 0);
	scep_msg_free(msg);
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, t + 2 * 86400, 86400, &msg),
	    HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADTIME);
	assert_int_equal(f->ca.calls > 0, 1);
	scep_msg_free(msg);
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, t - 2 * 86400, 86400, &msg),
	    HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADTIME);
	scep_msg_free(msg);
	buf_free(&der);
}

/* Flips, truncations and appended bytes never crash and never pass with other content. */
static void
test_mutations(void **state)
{
	struct fx *f = *state;
	size_t i, pos, len;

	for (i = 0; i < SCEPT_N_FIXTURES; i++) {
		struct buf der = { 0 };
		struct scep_msg *ref = NULL, *msg;
		uint8_t *m;
		int rc, passed = 0;

		scept_load(scept_fixtures[i].file, &der);
		assert_int_equal(scep_msg_parse(der.data, der.len, &f->ops, 0, 0, &ref), 0);
		m = malloc(der.len + 64);
		/* One bit flipped in every byte (the bit rotates with the position; the first fixture
		 * gets all eight bits of every byte). */
		for (pos = 0; pos < der.len; pos++) {
			unsigned bit, nbits = i == 0 ? 8 : 1;

			for (bit = 0; bit < nbits; bit++) {
				memcpy(m, der.data, der.len);
				m[pos] ^= (uint8_t)(1u << ((pos + bit) % 8));
				msg = NULL;
				rc = scep_msg_parse(m, der.len, &f->ops, 0, 0, &msg);
				if (rc == 0) {
					/* Only unsigned parts may change: the signed content is the same. */
					passed++;
					assert_int_equal(msg->type, ref->type);
					assert_string_equal(msg->transaction_id, ref->transaction_id);
					assert_memory_equal(msg->sender_nonce, ref->sender_nonce, SCEP_NONCE_LEN);
					assert_int_equal(msg->content.len, ref->content.len);
					assert_memory_equal(msg->content.data, ref->content.data, ref->content.len);
				} else {
					assert_true(msg == NULL || (unsigned)msg->fail < SCEP_FAIL__MAX);
				}
				scep_msg_free(msg);
			}
		}
		/* Truncation: every length for the first fixture, every 5th for the others. */
		for (len = 0; len < der.len; len += i == 0 ? 1 : 5) {
			msg = NULL;
			assert_int_not_equal(scep_msg_parse(der.data, len, &f->ops, 0, 0, &msg), 0);
			scep_msg_free(msg);
		}
		/* Appended bytes are trailing garbage. */
		for (len = 1; len <= 64; len *= 2) {
			memcpy(m, der.data, der.len);
			memset(m + der.len, (int)len, len);
			msg = NULL;
			assert_int_equal(scep_msg_parse(m, der.len + len, &f->ops, 0, 0, &msg), HSMCA_E_INVALID);
			assert_int_equal(msg->fail, SCEP_FAIL_BADREQUEST);
			scep_msg_free(msg);
		}
		print_message("%s: %d of the flipped messages still verify (unsigned parts)\n",
		    scept_fixtures[i].file, passed);
		free(m);
		scep_msg_free(ref);
		buf_free(&der);
	}
}

/* A client of our own for the message types the fixtures do not cover, and bad attributes. */
struct client {
	EVP_PKEY *key;
	X509 *cert;
};

static void
client_new(struct client *c)
{
	c->key = scept_rsa(2048);
	c->cert = scept_cert("client", c->key, NULL, NULL, 0, "digitalSignature,keyEncipherment");
}

static void
client_free(struct client *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

static int
parse_built(struct fx *f, const struct scept_req *r, struct client *c, const struct buf *inner,
    struct scep_msg **msg)
{
	struct buf der = { 0 };
	int rc;

	assert_int_equal(scept_build(r, c->key, c->cert, f->ca.cert, inner->data, inner->len, &der), 0);
	*msg = NULL;
	rc = scep_msg_parse(der.data, der.len, &f->ops, 0, 0, msg);
	buf_free(&der);
	return rc;
}

static void
test_other_types(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct scep_msg *msg;
	struct buf ias = { 0 }, iasub = { 0 }, iss = { 0 }, sub = { 0 };
	PKCS7_ISSUER_AND_SERIAL *is = PKCS7_ISSUER_AND_SERIAL_new();
	unsigned char *der = NULL, *n1 = NULL, *n2 = NULL;
	int n, l1, l2;
	struct scept_req r = { .msg_type = "21", .txid = "0123456789ABCDEF", .nonce_len = 16 };

	client_new(&c);
	/* GetCert / GetCRL: IssuerAndSerialNumber. */
	X509_NAME_set(&is->issuer, X509_get_subject_name(f->ca.cert));
	ASN1_INTEGER_set(is->serial, 0x1234);
	n = i2d_PKCS7_ISSUER_AND_SERIAL(is, &der);
	assert_true(n > 0);
	buf_set(&ias, der, (size_t)n);
	assert_int_equal(parse_built(f, &r, &c, &ias, &msg), 0);
	assert_int_equal(msg->type, SCEP_MSG_GETCERT);
	assert_cn(&msg->issuer, "Fixture SCEP CA");
	assert_int_equal(msg->serial.len, 4);   /* 02 02 12 34 */
	assert_int_equal(msg->serial.data[2], 0x12);
	scep_msg_free(msg);
	r.msg_type = "22";
	r.md = EVP_sha512();
	r.cipher = EVP_des_ede3_cbc();
	assert_int_equal(parse_built(f, &r, &c, &ias, &msg), 0);
	assert_int_equal(msg->type, SCEP_MSG_GETCRL);
	assert_string_equal(msg->cipher, "des-ede3-cbc");
	assert_string_equal(msg->digest, "sha512");
	scep_msg_free(msg);
	/* CertPoll: IssuerAndSubject, built by hand (SEQUENCE { Name, Name }). */
	l1 = i2d_X509_NAME(X509_get_subject_name(f->ca.cert), &n1);
	l2 = i2d_X509_NAME(X509_get_subject_name(c.cert), &n2);
	{
		uint8_t hdr[4] = { 0x30, 0x82, (uint8_t)((l1 + l2) >> 8), (uint8_t)(l1 + l2) };
		uint8_t *cat = malloc(4 + (size_t)l1 + (size_t)l2);

		memcpy(cat, hdr, 4);
		memcpy(cat + 4, n1, (size_t)l1);
		memcpy(cat + 4 + l1, n2, (size_t)l2);
		buf_set(&iasub, cat, 4 + (size_t)l1 + (size_t)l2);
		free(cat);
	}
	r.msg_type = "20";
	r.md = NULL;
	r.cipher = EVP_aes_256_cbc();
	assert_int_equal(parse_built(f, &r, &c, &iasub, &msg), 0);
	assert_int_equal(msg->type, SCEP_MSG_CERTPOLL);
	assert_cn(&msg->issuer, "Fixture SCEP CA");
	assert_cn(&msg->subject, "client");
	scep_msg_free(msg);
	/* A CertPoll body is not an IssuerAndSerialNumber and vice versa: badRequest. */
	r.msg_type = "21";
	assert_int_equal(parse_built(f, &r, &c, &iasub, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADREQUEST);
	scep_msg_free(msg);
	r.msg_type = "20";
	assert_int_equal(parse_built(f, &r, &c, &ias, &msg), HSMCA_E_INVALID);
	scep_msg_free(msg);
	/* Direct readers. */
	assert_int_equal(scep_parse_issuer_and_subject(iasub.data, iasub.len, &iss, &sub), 0);
	assert_int_equal(iss.len, (size_t)l1);
	assert_int_equal(scep_parse_issuer_and_subject(iasub.data, iasub.len - 1, &iss, &sub), HSMCA_E_INVALID);
	assert_null(iss.data);
	buf_free(&iss);
	buf_free(&sub);
	OPENSSL_free(der);
	OPENSSL_free(n1);
	OPENSSL_free(n2);
	PKCS7_ISSUER_AND_SERIAL_free(is);
	buf_free(&ias);
	buf_free(&iasub);
	client_free(&c);
}

/* A CSR for key with CN=cn, a subjectAltName request, and n_challenges challengePasswords.
 * OpenSSL refuses to add a second one, so for 2 an unstructuredName (1.2.840.113549.1.9.2) is
 * added and its OID turned into challengePassword's (...9.7) in the DER (the signature no longer
 * verifies, which scep_csr_challenge does not look at). */
static void
csr_with(EVP_PKEY *key, const char *cn, int n_challenges, struct buf *out)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:a.example");
	unsigned char *der = NULL;
	int n;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	sk_X509_EXTENSION_push(exts, san);
	assert_true(X509_REQ_add_extensions(req, exts));
	static const uint8_t unstructured[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02 };

	if (n_challenges > 0)
		assert_true(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, V_ASN1_UTF8STRING,
		    (const unsigned char *)"s3cret", 6));
	if (n_challenges > 1)
		assert_true(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_unstructuredName, V_ASN1_UTF8STRING,
		    (const unsigned char *)"other", 5));
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	for (int i = 0; n_challenges > 1 && i + (int)sizeof(unstructured) <= n; i++) {
		if (memcmp(der + i, unstructured, sizeof(unstructured)) == 0) {
			der[i + sizeof(unstructured) - 1] = 0x07;
			n_challenges = 0;
		}
	}
	assert_true(n_challenges <= 1);
	assert_int_equal(buf_set(out, der, (size_t)n), 0);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

/* scep_csr_challenge reads the request's framing, subject and attributes without decoding it
 * whole: the challenge among other attributes, the subject as sent, and refusals for a second
 * challenge, trailing bytes and every truncation. */
static void
test_csr_challenge_reader(void **state)
{
	struct client c;
	struct buf csr = { 0 }, subject = { 0 };
	uint8_t *ch = NULL, *longer;
	size_t ch_len = 0;

	(void)state;
	client_new(&c);
	csr_with(c.key, "reader", 1, &csr);
	assert_int_equal(scep_csr_challenge(csr.data, csr.len, &ch, &ch_len, &subject), 0);
	assert_int_equal(ch_len, 6);
	assert_memory_equal(ch, "s3cret", 6);
	assert_cn(&subject, "reader");
	OPENSSL_clear_free(ch, ch_len + 1);
	buf_free(&subject);
	/* Without a subject wanted; without a challenge. */
	assert_int_equal(scep_csr_challenge(csr.data, csr.len, &ch, &ch_len, NULL), 0);
	OPENSSL_clear_free(ch, ch_len + 1);
	buf_free(&csr);
	csr_with(c.key, "reader", 0, &csr);
	assert_int_equal(scep_csr_challenge(csr.data, csr.len, &ch, &ch_len, &subject), 0);
	assert_null(ch);
	assert_cn(&subject, "reader");
	buf_free(&subject);
	buf_free(&csr);
	/* Two challenges. */
	csr_with(c.key, "reader", 2, &csr);
	assert_int_equal(scep_csr_challenge(csr.data, csr.len, &ch, &ch_len, &subject), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "two challengePassword"));
	assert_null(ch);
	assert_null(subject.data);
	buf_free(&csr);
	/* Trailing byte, every truncation, a broken subject. */
	csr_with(c.key, "reader", 1, &csr);
	longer = malloc(csr.len + 1);
	assert_non_null(longer);
	memcpy(longer, csr.data, csr.len);
	longer[csr.len] = 0;
	assert_int_equal(scep_csr_challenge(longer, csr.len + 1, &ch, &ch_len, &subject), HSMCA_E_INVALID);
	for (size_t i = 0; i < csr.len; i++) {
		assert_int_equal(scep_csr_challenge(csr.data, i, &ch, &ch_len, &subject), HSMCA_E_INVALID);
		assert_null(ch);
		assert_null(subject.data);
	}
	/* The subject SEQUENCE (after 30 82 xx xx 30 82 xx xx 02 01 00) tagged as a SET. */
	assert_int_equal(longer[11], 0x30);
	longer[11] = 0x31;
	assert_int_equal(scep_csr_challenge(longer, csr.len, &ch, &ch_len, &subject), HSMCA_E_INVALID);
	free(longer);
	buf_free(&csr);
	client_free(&c);
}

/* RenewalReq, the challenge in each string type, and certmonger's PrintableString quirk. */
static void
test_csr_variants(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct scep_msg *msg;
	struct buf csr = { 0 };
	struct scept_req r = { .msg_type = "17", .txid = "12345678901234567890", .nonce_len = 16 };
	static const char quirky[] = "pa$$_w\xc3\xb6rd";
	static const int types[] = { V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING, V_ASN1_IA5STRING };
	size_t i;

	client_new(&c);
	for (i = 0; i < 3; i++) {
		assert_int_equal(scept_csr(c.key, "renew-me", quirky, types[i], &csr), 0);
		assert_int_equal(parse_built(f, &r, &c, &csr, &msg), 0);
		assert_int_equal(msg->type, SCEP_MSG_RENEWALREQ);
		assert_int_equal(msg->challenge_len, strlen(quirky));
		assert_memory_equal(msg->challenge, quirky, strlen(quirky));
		scep_msg_free(msg);
		buf_free(&csr);
	}
	/* BMPString is not one we read. */
	assert_int_equal(scept_csr(c.key, "renew-me", "ab", V_ASN1_BMPSTRING, &csr), 0);
	assert_int_equal(parse_built(f, &r, &c, &csr, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADREQUEST);
	scep_msg_free(msg);
	buf_free(&csr);
	/* No challenge (RenewalReq needs none): parses, challenge NULL. */
	assert_int_equal(scept_csr(c.key, "renew-me", NULL, 0, &csr), 0);
	assert_int_equal(parse_built(f, &r, &c, &csr, &msg), 0);
	assert_null(msg->challenge);
	assert_cn(&msg->subject, "renew-me");
	scep_msg_free(msg);
	/* The content is not a CSR. */
	csr.data[0] ^= 0x01;
	r.msg_type = "19";
	assert_int_equal(parse_built(f, &r, &c, &csr, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADREQUEST);
	scep_msg_free(msg);
	buf_free(&csr);
	client_free(&c);
}

/* Each malformed attribute set is refused with the expected failInfo and replyability. */
static void
test_bad_attributes(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct scep_msg *msg;
	struct buf csr = { 0 };
	char long_tid[SCEP_TRANSID_MAX + 2];
	const struct {
		struct scept_req r;
		enum scep_fail fail;
		int replyable;
	} cases[] = {
		{ { .msg_type = "19", .nonce_len = 16 }, SCEP_FAIL_BADREQUEST, 0 },           /* no tid */
		{ { .msg_type = "19", .txid = "t" }, SCEP_FAIL_BADREQUEST, 0 },               /* no nonce */
		{ { .msg_type = "19", .txid = "t", .nonce_len = 8 }, SCEP_FAIL_BADREQUEST, 0 },
		{ { .msg_type = "19", .txid = "t", .nonce_len = 16, .nonce_as_printable = 1 },
		  SCEP_FAIL_BADREQUEST, 0 },
		{ { .msg_type = "19", .txid = "t", .nonce_len = 16, .dup_txid = 1 }, SCEP_FAIL_BADREQUEST, 0 },
		{ { .txid = "t", .nonce_len = 16 }, SCEP_FAIL_BADREQUEST, 1 },               /* no type */
		{ { .msg_type = "3", .txid = "t", .nonce_len = 16 }, SCEP_FAIL_BADREQUEST, 1 },
		{ { .msg_type = "99", .txid = "t", .nonce_len = 16 }, SCEP_FAIL_BADREQUEST, 1 },
		{ { .msg_type = "19", .txid = long_tid, .nonce_len = 16 }, SCEP_FAIL_BADREQUEST, 0 },
		{ { .msg_type = "19", .txid = "t", .nonce_len = 16, .md = NULL, .raw_content = 1 },
		  SCEP_FAIL_BADREQUEST, 1 },                                                  /* no envelope */
		{ { .msg_type = "19", .txid = "t", .nonce_len = 16, .md = NULL,
		    .cipher = NULL }, SCEP_FAIL__MAX, 1 },                                    /* valid */
	};
	size_t i;

	memset(long_tid, 'A', sizeof(long_tid) - 1);
	long_tid[sizeof(long_tid) - 1] = '\0';
	client_new(&c);
	assert_int_equal(scept_csr(c.key, "x", "fixture-secret", V_ASN1_PRINTABLESTRING, &csr), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_built(f, &cases[i].r, &c, &csr, &msg);

		if (cases[i].fail == SCEP_FAIL__MAX) {
			assert_int_equal(rc, 0);
		} else {
			if (rc != HSMCA_E_INVALID)
				fail_msg("case %zu: rc %d", i, rc);
			assert_int_equal(msg->fail, cases[i].fail);
			assert_int_equal(msg->replyable, cases[i].replyable);
			assert_null(msg->content.data);
		}
		scep_msg_free(msg);
	}
	/* SHA-384 and MD5 digests are not on the list: badAlg. */
	{
		struct scept_req r = { .msg_type = "19", .txid = "t", .nonce_len = 16, .md = EVP_sha384() };

		assert_int_equal(parse_built(f, &r, &c, &csr, &msg), HSMCA_E_INVALID);
		assert_int_equal(msg->fail, SCEP_FAIL_BADALG);
		assert_true(msg->replyable);
		scep_msg_free(msg);
	}
	/* An EC signer cannot receive an encrypted CertRep: badAlg. */
	{
		struct client e = { scept_ec(), NULL };
		struct scept_req r = { .msg_type = "19", .txid = "t", .nonce_len = 16 };

		e.cert = scept_cert("ec", e.key, NULL, NULL, 0, NULL);
		assert_int_equal(parse_built(f, &r, &c, &csr, &msg), 0);
		scep_msg_free(msg);
		assert_int_equal(parse_built(f, &r, &e, &csr, &msg), HSMCA_E_INVALID);
		assert_int_equal(msg->fail, SCEP_FAIL_BADALG);
		scep_msg_free(msg);
		client_free(&e);
	}
	/* Oversized input. */
	{
		uint8_t *big = calloc(1, SCEP_MSG_MAX_BYTES + 1);

		assert_int_equal(scep_msg_parse(big, SCEP_MSG_MAX_BYTES + 1, &f->ops, 0, 0, &msg),
		    HSMCA_E_TOOLARGE);
		scep_msg_free(msg);
		free(big);
	}
	buf_free(&csr);
	client_free(&c);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_PKCSREQ), 19);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_RENEWALREQ), 17);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_CERTPOLL), 20);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_GETCERT), 21);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_GETCRL), 22);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG_CERTREP), 3);
	assert_int_equal(scep_msg_type_wire(SCEP_MSG__MAX), -1);
	assert_string_equal(scep_fail_name(SCEP_FAIL_BADCERTID), "badCertId");
	assert_string_equal(scep_fail_name(SCEP_FAIL__MAX), "?");
	assert_int_equal(scep_status_wire(SCEP_STATUS_PENDING), 3);
	assert_int_equal(scep_status_wire(SCEP_STATUS_FAILURE), 2);
	assert_string_equal(scep_status_name(SCEP_STATUS_SUCCESS), "SUCCESS");
	scep_msg_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fixtures_parse),
		cmocka_unit_test(test_des_needs_legacy),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_bad_time),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_csr_variants),
		cmocka_unit_test(test_csr_challenge_reader),
		cmocka_unit_test(test_bad_attributes),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
