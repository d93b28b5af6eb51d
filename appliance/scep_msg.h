/*
 * scep_msg.h: pure parser of SCEP pkiMessages (RFC 8894 §3), independent of HTTP.
 *
 * Bytes in, struct out: no I/O, no database, no token, no globals. The one private-key
 * operation a request needs (opening its pkcsPKIEnvelope) goes through struct scep_keyops,
 * which the glue points at tok_cms_decrypt_cb() and tests point at a software key.
 *
 * The parser is a whitelist (STYLE.md §7): one SignedData with exactly one SignerInfo, the
 * SCEP signed attributes each present once with the right type and size, digests SHA-1/256/512,
 * an RSA signer, an EnvelopedData with AES-128/256-CBC, 3DES or DES, and the inner content the
 * message type calls for. Everything else is refused with the failInfo RFC 8894 §3.2.1.4.5
 * describes.
 *
 * Thread safety: every function is reentrant; a struct scep_msg belongs to one thread at a time.
 */
#ifndef HSMCA_SCEP_MSG_H
#define HSMCA_SCEP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/types.h>

#include "buf.h"

/* Limits of what we accept from a client (RFC 8894 leaves them open). */
#define SCEP_MSG_MAX_BYTES      (64 * 1024)   /* whole pkiMessage DER */
#define SCEP_TRANSID_MAX        128           /* transactionID characters */
#define SCEP_NONCE_LEN          16            /* senderNonce / recipientNonce bytes (§3.2.1.5) */
#define SCEP_CHALLENGE_MAX      255           /* challengePassword bytes (PKCS#9 ub) */

/* Message types, in our own order; scep_msg_type_wire() gives the RFC number. */
enum scep_msg_type {
	SCEP_MSG_PKCSREQ,      /* 19 */
	SCEP_MSG_RENEWALREQ,   /* 17 */
	SCEP_MSG_CERTPOLL,     /* 20, "GetCertInitial" in older drafts */
	SCEP_MSG_GETCERT,      /* 21 */
	SCEP_MSG_GETCRL,       /* 22 */
	SCEP_MSG_CERTREP,      /*  3, only ever built by us */
	SCEP_MSG__MAX
};

/* failInfo values; the enum value is the wire value (RFC 8894 §3.2.1.4.5). */
enum scep_fail {
	SCEP_FAIL_BADALG = 0,           /* unrecognised or unsupported algorithm */
	SCEP_FAIL_BADMESSAGECHECK = 1,  /* integrity check (signature, decryption) failed */
	SCEP_FAIL_BADREQUEST = 2,       /* transaction not permitted or not supported */
	SCEP_FAIL_BADTIME = 3,          /* signingTime too far from our clock */
	SCEP_FAIL_BADCERTID = 4,        /* no certificate matches the criteria */
	SCEP_FAIL__MAX
};

/* pkiStatus, in our own order; scep_status_wire() gives the RFC number (0, 2, 3). */
enum scep_status {
	SCEP_STATUS_SUCCESS,
	SCEP_STATUS_FAILURE,
	SCEP_STATUS_PENDING,
	SCEP_STATUS__MAX
};

/*
 * The private-key side. decrypt() receives the DER ContentInfo(EnvelopedData) exactly as the
 * client signed it and returns the decrypted content (caller of decrypt frees with buf_free).
 * It returns 0 or a negative HSMCA_E_*; any failure is reported to the client as
 * badMessageCheck. HSMCA_E_INVALID means the envelope is at fault (scep_msg_parse's own detail);
 * any other code keeps decrypt's detail (our key is unusable, e.g. gone from the token). The
 * implementation must refuse an envelope not addressed to its key.
 */
struct scep_keyops {
	int (*decrypt)(void *arg, const uint8_t *env_der, size_t env_len, struct buf *content);
	void *arg;
};

struct scep_msg {
	enum scep_msg_type type;
	char transaction_id[SCEP_TRANSID_MAX + 1];  /* NUL-terminated, printable */
	uint8_t sender_nonce[SCEP_NONCE_LEN];
	char digest[8];          /* "sha1", "sha256", "sha512" */
	char cipher[16];         /* "aes-128-cbc", "aes-256-cbc", "des-ede3-cbc", "des-cbc" */
	time_t signing_time;     /* signingTime attribute, 0 when absent */
	struct buf signer_cert;  /* DER of the certificate that signed the message */
	X509 *signer;            /* the same certificate decoded (one reference, freed by
	                            scep_msg_free), so callers need not decode it again; NULL
	                            in a struct not made by scep_msg_parse */
	struct buf content;      /* decrypted messageData DER: CSR, IssuerAndSubject or
	                            IssuerAndSerialNumber, by type */
	/* Decoded from content: */
	struct buf issuer;       /* Name DER (CertPoll, GetCert, GetCRL) */
	struct buf subject;      /* Name DER (CertPoll; for PKCSReq/RenewalReq the CSR subject) */
	struct buf serial;       /* INTEGER DER (GetCert, GetCRL) */
	uint8_t *challenge;      /* CSR challengePassword bytes, NUL-terminated, or NULL; secret:
	                            wiped by scep_msg_free, never logged */
	size_t challenge_len;
	/* Filled on failure too: */
	enum scep_fail fail;     /* why parsing failed (meaningful when scep_msg_parse fails) */
	int replyable;           /* 1 once transactionID and senderNonce were read: a FAILURE
	                            CertRep can then be addressed (RFC 8894 §3.3.2) */
};

/*
 * Parses and checks one pkiMessage of len bytes (no trailing bytes allowed), verifies its
 * signature with the signer certificate it carries, opens the envelope through ops and decodes
 * the inner content for its message type. now != 0 enables the signingTime check (badTime when
 * it is more than max_skew_s away); now == 0 skips it.
 *
 * *out is set in every case but out of memory (HSMCA_E_NOMEM with *out NULL): on success the
 * message, on failure the fields read so far with (*out)->fail and (*out)->replyable set, so the
 * caller can answer with a FAILURE CertRep rather than a bare 400. Caller frees with
 * scep_msg_free(). Returns 0, HSMCA_E_INVALID (malformed, refused) or HSMCA_E_TOOLARGE, with a
 * detail citing RFC 8894 via err_set().
 *
 * It does not check: that a RenewalReq signer is a current certificate of this CA, CSR policy,
 * or the challenge. Those are the caller's (scep.c, csr.c).
 */
int scep_msg_parse(const uint8_t *der, size_t len, const struct scep_keyops *ops, time_t now,
    long max_skew_s, struct scep_msg **out);

/* Frees msg, wiping the challenge and the content. scep_msg_free(NULL) is a no-op. */
void scep_msg_free(struct scep_msg *msg);

/*
 * Inner-content readers, exposed for the fuzzer and for callers holding a content blob.
 * scep_csr_challenge: the challengePassword of a PKCS#10 CSR (DER), whether PrintableString,
 * UTF8String or IA5String; its bytes are taken as they are (certmonger tags PrintableString even
 * around '$', '_' or non-ASCII). *challenge NULL when the CSR has none. Caller frees with
 * OPENSSL_clear_free(*challenge, *len + 1). Also returns the subject Name DER when subject != NULL.
 * It checks the request's DER framing, subject and attributes only; the public key and the
 * signature are csr_parse's (csr.h), which the enrollment runs on the same bytes.
 */
int scep_csr_challenge(const uint8_t *csr_der, size_t len, uint8_t **challenge, size_t *challenge_len,
    struct buf *subject);

/* IssuerAndSubject (CertPoll, RFC 8894 §3.3.3): issuer and subject Name DER. */
int scep_parse_issuer_and_subject(const uint8_t *der, size_t len, struct buf *issuer,
    struct buf *subject);

/* IssuerAndSerialNumber (GetCert, GetCRL, RFC 8894 §3.3.4, §3.3.5): Name DER and INTEGER DER. */
int scep_parse_issuer_and_serial(const uint8_t *der, size_t len, struct buf *issuer,
    struct buf *serial);

/* Names and wire values. Names: "PKCSReq", "RenewalReq", "CertPoll", "GetCert", "GetCRL",
 * "CertRep"; "badAlg", ...; "SUCCESS", "FAILURE", "PENDING". Out-of-range values give "?"/-1. */
const char *scep_msg_type_name(enum scep_msg_type type);
int scep_msg_type_wire(enum scep_msg_type type);
const char *scep_fail_name(enum scep_fail fail);
const char *scep_status_name(enum scep_status status);
int scep_status_wire(enum scep_status status);

#endif
