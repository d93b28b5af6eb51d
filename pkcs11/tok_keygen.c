/*
 * tok_keygen.c: key generation on the token and the CKA_* attribute policy.
 *
 * libp11 0.4.12 only generates RSA, with attributes we cannot choose, so key pairs are made
 * with C_GenerateKeyPair and explicit templates on a pool session (which shares libp11's
 * login). The policy (DESIGN.md "The key boundary"):
 *   CA / RA keys (exportable == 0): CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=FALSE, CKA_PRIVATE=TRUE;
 *   endpoint keys for a PFX (exportable == 1): CKA_SENSITIVE=FALSE, CKA_EXTRACTABLE=TRUE,
 *   CKA_PRIVATE=TRUE (readable only after login, exported only through tok_export_pkcs12).
 * Every private key is a token object that signs; RSA ones also decrypt (SCEP RA keys open
 * pkcsPKIEnvelopes). CKA_ID is 16 fresh random bytes, CKA_LABEL the caller's label.
 */
#include <string.h>

#include <openssl/rand.h>

#include "err.h"
#include "tok_internal.h"

int
tok_new_id(uint8_t id[TOK_ID_LEN])
{
	if (RAND_bytes(id, TOK_ID_LEN) != 1)
		return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
	return 0;
}

int
tok_label_check(const char *label)
{
	size_t i, n;

	if (label == NULL || (n = strlen(label)) == 0 || n > TOK_LABEL_MAX)
		return err_set(HSMCA_E_INVALID, "key label must be 1 to %d bytes", TOK_LABEL_MAX);
	for (i = 0; i < n; i++) {
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return err_set(HSMCA_E_INVALID, "key label contains a control character");
	}
	return 0;
}

#define ADD(t, v, l) do { \
	tmpl[n].type = (t); tmpl[n].pValue = (void *)(v); tmpl[n].ulValueLen = (CK_ULONG)(l); n++; \
} while (0)

int
tok_generate_key(struct tok *tok, enum tok_key_spec spec, const char *label, int exportable,
    char **keyref)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const uint8_t f4[] = { 0x01, 0x00, 0x01 };
	const CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
	CK_KEY_TYPE key_type;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_ATTRIBUTE pub[12], priv[16], *tmpl;
	CK_ULONG n, n_pub, bits = 0;
	CK_OBJECT_HANDLE h_pub, h_priv;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	uint8_t id[TOK_ID_LEN];
	const uint8_t *ec_params;
	size_t ec_len;
	int rc, is_rsa;

	*keyref = NULL;
	if ((int)spec < 0 || spec >= TOK_KEY__MAX)
		return err_set(HSMCA_E_INVALID, "unknown key spec %d", (int)spec);
	if ((rc = tok_label_check(label)) != 0)
		return rc;
	if (exportable != 0 && exportable != 1)
		return err_set(HSMCA_E_INVALID, "exportable must be 0 or 1");
	if ((rc = tok_new_id(id)) != 0)
		return rc;
	is_rsa = spec == TOK_KEY_RSA_2048 || spec == TOK_KEY_RSA_3072 || spec == TOK_KEY_RSA_4096;
	ec_params = tok_ec_params(spec, &ec_len);
	bits = spec == TOK_KEY_RSA_2048 ? 2048 : spec == TOK_KEY_RSA_3072 ? 3072 : 4096;
	key_type = is_rsa ? CKK_RSA : CKK_EC;
	mech.mechanism = is_rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;

	tmpl = pub;
	n = 0;
	ADD(CKA_CLASS, &pub_class, sizeof(pub_class));
	ADD(CKA_KEY_TYPE, &key_type, sizeof(key_type));
	ADD(CKA_TOKEN, &yes, sizeof(yes));
	ADD(CKA_PRIVATE, &no, sizeof(no));
	ADD(CKA_VERIFY, &yes, sizeof(yes));
	ADD(CKA_ID, id, sizeof(id));
	ADD(CKA_LABEL, label, strlen(label));
	if (is_rsa) {
		ADD(CKA_ENCRYPT, &yes, sizeof(yes));
		ADD(CKA_MODULUS_BITS, &bits, sizeof(bits));
		ADD(CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
	} else {
		ADD(CKA_EC_PARAMS, ec_params, ec_len);
	}
	n_pub = n;

	tmpl = priv;
	n = 0;
	ADD(CKA_CLASS, &priv_class, sizeof(priv_class));
	ADD(CKA_KEY_TYPE, &key_type, sizeof(key_type));
	ADD(CKA_TOKEN, &yes, sizeof(yes));
	ADD(CKA_PRIVATE, &yes, sizeof(yes));
	ADD(CKA_SENSITIVE, exportable ? &no : &yes, sizeof(yes));
	ADD(CKA_EXTRACTABLE, exportable ? &yes : &no, sizeof(yes));
	ADD(CKA_SIGN, &yes, sizeof(yes));
	ADD(CKA_DECRYPT, is_rsa ? &yes : &no, sizeof(yes));
	ADD(CKA_DERIVE, &no, sizeof(no));
	ADD(CKA_UNWRAP, &no, sizeof(no));
	ADD(CKA_ID, id, sizeof(id));
	ADD(CKA_LABEL, label, strlen(label));

	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	pthread_rwlock_wrlock(&tok->store_lock);
	rv = tok->fl->C_GenerateKeyPair(s, &mech, pub, n_pub, priv, n, &h_pub, &h_priv);
	pthread_rwlock_unlock(&tok->store_lock);
	tok_session_put_rv(tok, s, rv);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GenerateKeyPair", rv);
	return tok_keyref_make(tok, id, sizeof(id), label, keyref);
}
