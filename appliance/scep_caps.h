/*
 * scep_caps.h: the bodies of GetCACaps, GetCACert and GetNextCACert (RFC 8894 §3.5.1, §4.1, §4.2,
 * §4.7), and the degenerate certificates-only PKCS#7 they and CertRep share. Pure: bytes in,
 * bytes out (GetNextCACert signs through the caller's struct scep_signops).
 */
#ifndef HSMCA_SCEP_CAPS_H
#define HSMCA_SCEP_CAPS_H

#include <stddef.h>

#include "buf.h"

#define SCEP_CT_CAPS        "text/plain"
#define SCEP_CT_CA_CERT     "application/x-x509-ca-cert"
#define SCEP_CT_CA_RA_CERT  "application/x-x509-ca-ra-cert"
#define SCEP_CT_PKI_MESSAGE "application/x-pki-message"
#define SCEP_CT_NEXT_CA_CERT "application/x-x509-next-ca-cert"

/* Optional capabilities, per CA. */
#define SCEP_CAPS_RENEWAL        0x1u   /* RenewalReq accepted */
#define SCEP_CAPS_GETNEXTCACERT  0x2u   /* a rollover certificate exists */

/*
 * GetCACaps body: what we really support, one keyword a line (§3.5.2): POSTPKIOperation,
 * SHA-256, SHA-512, AES, SCEPStandard, plus Renewal and GetNextCACert by flags. SHA-1, 3DES and
 * DES are accepted from clients that use them unasked but are not advertised, so a client that
 * reads the list picks AES and SHA-256. Content type SCEP_CT_CAPS.
 */
int scep_caps_text(unsigned flags, struct buf *out);

/*
 * Degenerate certificates-only PKCS#7 SignedData (RFC 8894 §3.4; no signers, eContentType
 * id-data without eContent): certs[0..n_certs) in that order, and crl_der when not NULL.
 * n_certs may be 0 when a CRL is given. The bytes are copied, not decoded: each certificate and
 * the CRL must be one DER SEQUENCE (HSMCA_E_INVALID otherwise), and callers pass only what this
 * appliance made or stored (issued, RA and CA certificates, CRLs).
 */
int scep_certs_only(const struct buf *certs, size_t n_certs, const struct buf *crl_der,
    struct buf *out);

/*
 * GetCACert body (§4.2). With an RA (ra_cert != NULL): a degenerate PKCS#7 of the RA
 * certificate, then chain[0] (the CA), then the rest of chain up to the root, content type
 * SCEP_CT_CA_RA_CERT; Apple clients expect the root in it. Without an RA: the CA certificate
 * DER alone (chain[0]), SCEP_CT_CA_CERT. *content_type is a static string.
 */
int scep_cacert_body(const struct buf *ra_cert, const struct buf *chain, size_t n_chain,
    struct buf *out, const char **content_type);

struct scep_signops;

/*
 * GetNextCACert body (§4.7): a SignedData made by signer (the CURRENT RA key on the token, as for
 * CertRep, so a client verifies it with what GetCACert gave it), SHA-256, whose eContent (type
 * id-data) is the DER of a degenerate certificates-only PKCS#7 of certs[0..n_certs): the next RA
 * certificate, the next CA certificate and its chain. Content type SCEP_CT_NEXT_CA_CERT.
 */
int scep_nextcacert_body(const struct buf *certs, size_t n_certs, const struct scep_signops *signer,
    struct buf *out);

#endif
