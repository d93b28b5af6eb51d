/*
 * tok.h: the key boundary. The only interface the appliance has to PKCS#11.
 *
 * Blobs in, blobs out: callers pass DER and key references (RFC 7512 pkcs11: URIs) and get DER
 * back. No EVP_PKEY of a token key, no session handle and no PIN ever crosses this header, so
 * phase 2 can move the implementation into a separate signer process behind a socketpair
 * without changing a caller. Do not add a function that would break that.
 *
 * Thread safety: every function taking a struct tok may be called from several threads at once;
 * the implementation serialises what the module needs serialised (a small pool of sessions).
 *
 * Ownership: every struct buf out-parameter is cleared on entry and, on success, owned by the
 * caller (free with buf_free()). Every char ** out-parameter is malloc'd, caller frees with free().
 * Errors: 0 or a negative HSMCA_E_* code, with a detail set through err_set().
 */
#ifndef HSMCA_TOK_H
#define HSMCA_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct tok;

/* Default module: Debian's SoftHSMv2. */
#define TOK_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct tok_config {
	const char *module_path;   /* NULL: TOK_DEFAULT_MODULE */
	const char *token_label;   /* the token to use, found by label */
	const char *pin_file;      /* user PIN in a file that must be mode 0600 (or stricter); or NULL */
	const char *pin_env;       /* else the name of an environment variable holding it; or NULL */
	int pool_size;             /* sessions in the pool; <= 0: 4 */
};

enum tok_key_spec {
	TOK_KEY_RSA_2048,
	TOK_KEY_RSA_3072,
	TOK_KEY_RSA_4096,
	TOK_KEY_EC_256,
	TOK_KEY_EC_384,
	TOK_KEY__MAX
};

/* "rsa-2048" ... "ec-384" <-> enum. parse returns HSMCA_E_INVALID (with a detail listing the
 * accepted names) for anything else. */
int tok_key_spec_parse(const char *name, enum tok_key_spec *out);
const char *tok_key_spec_name(enum tok_key_spec spec);

/*
 * Token set-up for the embedded SoftHSM default (used by `hsmca init`): writes
 * state_dir/softhsm2.conf (token directory state_dir/tokens, file backend), initialises a fresh
 * token with the given label, with random SO and user PINs; stores the user PIN in
 * state_dir/pin (0600) and the SO PIN in state_dir/so-pin (0600). Sets SOFTHSM2_CONF in this
 * process's environment so a following tok_open() finds the token. HSMCA_E_EXISTS when
 * state_dir already holds a token.
 */
int tok_softhsm_create(const char *state_dir, const char *token_label);

/* Loads the module, finds the token by label and logs in with the user PIN. A wrong PIN is
 * HSMCA_E_PIN; a PIN file readable by group or others is refused (HSMCA_E_PIN, detail says so). */
int tok_open(const struct tok_config *cfg, struct tok **out);

/* Logs out and unloads. tok_close(NULL) is a no-op. */
void tok_close(struct tok *tok);

/* The token's label (borrowed, valid until tok_close). */
const char *tok_label(const struct tok *tok);

/* Cheap liveness check for /healthz: a session can be had and the token answers. */
int tok_ping(struct tok *tok);

/*
 * Generates a key pair on the token. label becomes CKA_LABEL; a fresh random CKA_ID is used.
 * exportable == 0 (CA keys, RA keys): CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=FALSE, CKA_PRIVATE=TRUE.
 * exportable == 1 (endpoint keys destined for a PFX): CKA_SENSITIVE=FALSE, CKA_EXTRACTABLE=TRUE,
 * CKA_PRIVATE=TRUE. *keyref gets the RFC 7512 URI of the private key.
 */
int tok_generate_key(struct tok *tok, enum tok_key_spec spec, const char *label, int exportable,
    char **keyref);

/*
 * Imports a private key (PEM, unencrypted, PKCS#8 or traditional; or PKCS#12 DER with password)
 * into the token as sensitive and non-extractable, with its public key, under label.
 * For PKCS#12 the certificate inside is ignored (callers read it themselves).
 */
int tok_import_key_pem(struct tok *tok, const uint8_t *pem, size_t pem_len, const char *label,
    char **keyref);
int tok_import_key_pkcs12(struct tok *tok, const uint8_t *p12, size_t p12_len, const char *password,
    const char *label, char **keyref);

/* SubjectPublicKeyInfo DER of the key pair named by keyref (private or public key URI). */
int tok_public_key(struct tok *tok, const char *keyref, struct buf *spki_der);

/* The key's spec as read from the token (RSA modulus bits / EC curve). HSMCA_E_POLICY for a key
 * hsmca cannot use. */
int tok_key_spec_of(struct tok *tok, const char *keyref, enum tok_key_spec *spec);

/* Whether the private key is extractable (CKA_EXTRACTABLE read from the token). */
int tok_key_is_exportable(struct tok *tok, const char *keyref, int *exportable);

/*
 * Signs a certificate. tbs is the DER of a TBSCertificate; its signature AlgorithmIdentifier is
 * replaced by the one that fits the key (sha256WithRSAEncryption for RSA, ecdsa-with-SHA256 for
 * P-256, ecdsa-with-SHA384 for P-384), so callers may put any valid AlgorithmIdentifier there.
 * Returns the DER of the signed Certificate.
 */
int tok_sign_certificate(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len,
    struct buf *cert_der);

/* Same for a CRL: tbs is a TBSCertList, the result a CertificateList. */
int tok_sign_crl(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len,
    struct buf *crl_der);

/* Raw signature of data with the key's default digest (as above): for OCSP responses and other
 * structures the caller assembles. sigalg_der gets the AlgorithmIdentifier DER that goes with it. */
int tok_sign_data(struct tok *tok, const char *keyref, const uint8_t *data, size_t data_len,
    struct buf *sig, struct buf *sigalg_der);

/* The signature AlgorithmIdentifier DER that tok_sign_certificate / tok_sign_crl / tok_sign_data
 * use for keyref (sha256WithRSAEncryption with NULL parameters, ecdsa-with-SHA256 or
 * ecdsa-with-SHA384 without parameters), for callers that must place it inside a TBS before
 * signing. */
int tok_sigalg(struct tok *tok, const char *keyref, struct buf *sigalg_der);

/*
 * Builds a PKCS#10 CSR for the token key keyref (HSM-based CSR generation). subject is an
 * OpenSSL-style "/CN=x/O=y" or "CN=x,O=y" string; sans is NULL or an array of n_sans entries
 * "DNS:name", "IP:addr", "email:x", "URI:x". Returns the CSR DER.
 */
int tok_make_csr(struct tok *tok, const char *keyref, const char *subject, const char *const *sans,
    size_t n_sans, struct buf *csr_der);

struct tok_key_info {
	char *keyref;        /* URI of the private key */
	char *label;
	char *spec;          /* "rsa-2048", ..., or "unsupported" */
	int exportable;      /* CKA_EXTRACTABLE */
	int sensitive;       /* CKA_SENSITIVE */
};

/* Every private key on the token. Caller frees with tok_key_list_free(). */
int tok_list_keys(struct tok *tok, struct tok_key_info **keys, size_t *n_keys);
void tok_key_list_free(struct tok_key_info *keys, size_t n_keys);

/* Deletes the private key, its public key and any certificate object with the same CKA_ID. */
int tok_delete_key(struct tok *tok, const char *keyref);

/*
 * PKCS#12 of an exportable token key with cert_der as its certificate and chain_der (n_chain
 * DER certificates) after it; friendly_name on the key bag. legacy == 0: AES-256-CBC with
 * PBKDF2-SHA256 and a SHA-256 MAC; legacy == 1: 3DES with SHA-1 (old Windows).
 * HSMCA_E_CONFLICT when CKA_EXTRACTABLE is false.
 */
int tok_export_pkcs12(struct tok *tok, const char *keyref, const struct buf *cert_der,
    const struct buf *chain_der, size_t n_chain, const char *friendly_name, const char *password,
    int legacy, struct buf *pfx_der);

/*
 * Seals a small secret that must be recoverable (a TOTP key) under an AES-256 key that never
 * leaves the token (label "hsmca-seal-v1", made on first use): AES-GCM with a random 96-bit IV,
 * aad binding it to its purpose (e.g. "totp:user:42") so a sealed value cannot be moved to
 * another row. sealed = 0x01 || IV || ciphertext || tag. At most TOK_SEAL_MAX bytes of plain.
 */
#define TOK_SEAL_MAX 4096
int tok_seal(struct tok *tok, const char *aad, const uint8_t *plain, size_t plain_len, struct buf *sealed);
/* HSMCA_E_INVALID when sealed is malformed, or was sealed for another aad or altered. */
int tok_unseal(struct tok *tok, const char *aad, const uint8_t *sealed, size_t sealed_len, struct buf *plain);

#endif
