/*
 * crl_der.h: a PURE streaming DER encoder for an X.509 v2 CRL (RFC 5280 section 5).
 *
 * Why not X509_CRL: a CRL with 1,000,000 entries is ~50 MB of DER but several hundred MB as
 * OpenSSL objects. This encoder appends each revokedCertificates entry as DER bytes into one
 * buffer as rows stream out of the database, so peak memory is the CRL's own size plus a constant.
 *
 * DER needs every length before its content, and the length of revokedCertificates is known only
 * at the end. The buffer therefore starts with headroom sized for the fields that precede the
 * entries (version, signature, issuer, thisUpdate, nextUpdate) plus three worst-case headers; at
 * the end the headers and that prefix are written backwards in front of the entries, and no byte
 * of the entries ever moves until the final (single) memmove to the start of the allocation.
 *
 * Use:
 *   crl_der_begin(&params, hint, &w);
 *   for each revoked certificate: crl_der_add(w, serial, len, revoked_at, reason);
 *   crl_der_tbs(w, &tbs, &tbs_len);       -> sign these bytes (tok_sign_data)
 *   crl_der_finish(w, sig, sig_len, &der); -> CertificateList DER, buffer moved into der
 *   crl_der_free(w);
 * The AlgorithmIdentifier passed in params must be the one the signature will be made with: it
 * sits both inside the TBSCertList and after it (RFC 5280 5.1.1.2 requires the two to match).
 *
 * No I/O, globals, database or token. Every function returns 0 or a negative HSMCA_E_* with an
 * err_set() detail. Not thread-safe per writer (one writer, one thread).
 */
#ifndef HSMCA_CRL_DER_H
#define HSMCA_CRL_DER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* RFC 5280 4.1.2.2: serial numbers are at most 20 octets. */
#define CRL_DER_SERIAL_MAX 20
/* Largest CRL we build: keeps every length below 2^32 (so a header is at most 6 bytes) and far
 * above the 1M-entry target (~50 MB). */
#define CRL_DER_MAX_BYTES ((size_t)1 << 30)
/* A tag plus a definite length of a value < 2^32. */
#define CRL_DER_HDR_MAX 6

/* CRLReason values (RFC 5280 5.3.1) are 0..10 without 7; OpenSSL's x509v3.h names them
 * CRL_REASON_*. 0 (unspecified) is written by leaving the reasonCode extension out. */
#define CRL_DER_REASON_MAX 10

struct crl_der_params {
	const uint8_t *sigalg;       /* AlgorithmIdentifier DER; copied */
	size_t sigalg_len;
	const uint8_t *issuer;       /* Name DER (the CA certificate's subject); copied */
	size_t issuer_len;
	int64_t this_update;         /* seconds since the epoch */
	int64_t next_update;         /* > this_update */
	const uint8_t *aki_keyid;    /* the CA's subjectKeyIdentifier, 1..64 bytes; copied */
	size_t aki_keyid_len;
	uint64_t crl_number;         /* cRLNumber extension value */
};

struct crl_der;

/* Starts a CRL. entries_hint: bytes to reserve for the entries (crl_der_reserve_hint), so the
 * buffer is allocated once; 0 is allowed (it then grows by half each time). Caller frees *out
 * with crl_der_free(). HSMCA_E_INVALID for malformed params, HSMCA_E_TOOLARGE, HSMCA_E_NOMEM. */
int crl_der_begin(const struct crl_der_params *p, size_t entries_hint, struct crl_der **out);

/* An upper bound on the entries' DER size: n entries whose serials have at most max_serial_bytes
 * bytes, n_with_reason of them carrying a reasonCode. Saturates at CRL_DER_MAX_BYTES. */
size_t crl_der_reserve_hint(uint64_t n, size_t max_serial_bytes, uint64_t n_with_reason);

/*
 * Appends one revokedCertificates entry. serial: the big-endian magnitude of a positive serial
 * (leading zero bytes are skipped; a 0x00 is prepended when the top bit is set), 1..20
 * significant bytes. revoked_at: seconds since the epoch. reason: a CRLReason (0..10 but 7); the
 * reasonCode entry extension is omitted for 0, unspecified (RFC 5280 5.3.1 "SHOULD be
 * absent"). Only before crl_der_tbs().
 */
int crl_der_add(struct crl_der *w, const uint8_t *serial, size_t serial_len, int64_t revoked_at, int reason);

/* Same with the serial as hex (upper or lower case, even or odd length, no separators). */
int crl_der_add_hex(struct crl_der *w, const char *serial_hex, int64_t revoked_at, int reason);

/* Entries added so far. */
uint64_t crl_der_count(const struct crl_der *w);

/* Closes the entry list and returns the complete TBSCertList DER: *tbs is borrowed from w, valid
 * until crl_der_finish() or crl_der_free(). May be called once. */
int crl_der_tbs(struct crl_der *w, const uint8_t **tbs, size_t *tbs_len);

/* Appends signatureAlgorithm (params.sigalg) and the signature BIT STRING, wraps the
 * CertificateList, and moves the buffer into *der (caller frees with buf_free). w is spent
 * afterwards (crl_der_free it). */
int crl_der_finish(struct crl_der *w, const uint8_t *sig, size_t sig_len, struct buf *der);

void crl_der_free(struct crl_der *w);

/* --- small DER helpers, shared with ocsp.c --- */

/* Writes tag and the definite length of len into out; returns the header's size (2..6). */
size_t crl_der_hdr(uint8_t out[CRL_DER_HDR_MAX], uint8_t tag, size_t len);

/* RFC 5280 Time: UTCTime YYMMDDHHMMSSZ for 1950..2049, GeneralizedTime YYYYMMDDHHMMSSZ from 2050
 * (4.1.2.5). out gets the whole TLV (at most 17 bytes); HSMCA_E_INVALID outside 1950..9999. */
int crl_der_time(int64_t t, uint8_t out[17], size_t *len);

/* GeneralizedTime TLV (OCSP uses it for every time, RFC 6960 4.2.1). 17 bytes. */
int crl_der_gentime(int64_t t, uint8_t out[17], size_t *len);

/* Hex serial to bytes (at most CRL_DER_SERIAL_MAX significant bytes). */
int crl_der_serial_from_hex(const char *hex, uint8_t out[CRL_DER_SERIAL_MAX + 1], size_t *len);

#endif
