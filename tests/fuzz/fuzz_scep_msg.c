/*
 * fuzz_scep_msg.c: libFuzzer target for the pure SCEP parsers (appliance/scep_msg.c).
 *
 * Every input goes through scep_msg_parse() and, since a mutated message rarely keeps a valid
 * signature, also straight into the inner-content readers that only run after it (CSR challenge,
 * IssuerAndSubject, IssuerAndSerialNumber). When HSMCA_FIXTURES names the shared fixtures, the
 * envelope of a message whose signature still verifies is opened with the fixture CA key, as the
 * unit tests do; otherwise the decrypt callback refuses and the parser's failure path runs.
 * Seeds: tests/fuzz/corpus/scep_msg (the captured client messages).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>

#include "buf.h"
#include "err.h"
#include "scep_msg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ca_key;
static X509 *ca_cert;
static OSSL_LIB_CTX *legacy;

static void *
read_pem(const char *dir, const char *name, int key)
{
	char path[1024];
	struct buf b = { 0 };
	BIO *bio;
	void *obj;

	snprintf(path, sizeof(path), "%s/scep/%s", dir, name);
	if (buf_read_file(path, 1 << 16, &b) != 0)
		return NULL;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	obj = key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    (void *)PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	buf_free(&b);
	return obj;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("HSMCA_FIXTURES");

	(void)argc;
	(void)argv;
	legacy = OSSL_LIB_CTX_new();
	OSSL_PROVIDER_load(legacy, "default");
	OSSL_PROVIDER_load(legacy, "legacy");
	if (dir != NULL) {
		ca_key = read_pem(dir, "ca.key", 1);
		ca_cert = read_pem(dir, "ca.pem", 0);
	}
	return 0;
}

static int
sw_decrypt(void *arg, const uint8_t *env, size_t len, struct buf *content)
{
	CMS_ContentInfo *cms = NULL;
	BIO *out = NULL;
	const uint8_t *p = env;
	char *d;
	long n;
	int rc = HSMCA_E_INVALID;

	(void)arg;
	if (ca_key == NULL || ca_cert == NULL)
		return rc;
	cms = CMS_ContentInfo_new_ex(legacy, NULL);
	out = BIO_new(BIO_s_mem());
	if (d2i_CMS_ContentInfo(&cms, &p, (long)len) != NULL &&
	    CMS_decrypt(cms, ca_key, ca_cert, NULL, out, CMS_BINARY) == 1 &&
	    (n = BIO_get_mem_data(out, &d)) > 0)
		rc = buf_set(content, d, (size_t)n);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct scep_keyops ops = { sw_decrypt, NULL };
	struct scep_msg *msg = NULL;
	struct buf a = { 0 }, b = { 0 };
	uint8_t *challenge = NULL;
	size_t challenge_len = 0;

	if (scep_msg_parse(data, size, &ops, 0, 0, &msg) == 0 && msg->replyable == 0)
		abort();   /* a parsed message can always be answered */
	scep_msg_free(msg);
	if (scep_csr_challenge(data, size, &challenge, &challenge_len, &a) == 0 && challenge != NULL)
		OPENSSL_clear_free(challenge, challenge_len + 1);
	buf_free(&a);
	scep_parse_issuer_and_subject(data, size, &a, &b);
	buf_free(&a);
	buf_free(&b);
	scep_parse_issuer_and_serial(data, size, &a, &b);
	buf_free(&a);
	buf_free(&b);
	err_clear();
	ERR_clear_error();
	return 0;
}
