/*
 * pfx.h: PKCS#12 export of a certificate whose key the appliance generated on the token
 * (server-side key generation, issue_with_token_key), for "Download PFX".
 *
 * The key leaves the token only through tok_export_pkcs12, which refuses keys without
 * CKA_EXTRACTABLE. The password is random (PFX_PASSWORD_LEN characters from a 56-symbol alphabet
 * without look-alikes, ~116 bits), returned once and never stored or logged. The PKCS#12 holds the
 * key, the certificate (friendly name = its common name, else its serial) and the issuing chain up
 * to the root. Every export writes the audit row "certificate.download_pfx.success"; the PFX is
 * handed out only once that row is committed.
 * The permission check (may this user export this certificate) is the caller's.
 */
#ifndef HSMCA_PFX_H
#define HSMCA_PFX_H

#include <stdint.h>

#include "buf.h"
#include "ctx.h"

#define PFX_PASSWORD_LEN 20

/*
 * legacy == 0: AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC; legacy == 1: 3DES/SHA-1 for old Windows.
 * *password_out: caller wipes and frees with OPENSSL_clear_free(p, strlen(p)).
 * HSMCA_E_NOTFOUND (no such certificate), HSMCA_E_CONFLICT ("the key was never held by the
 * appliance" when the row has no keyref, or the token refuses the export).
 */
int pfx_export(struct hsmca_ctx *ctx, int64_t cert_id, const char *actor, const char *ip, int legacy,
    char **password_out, struct buf *pfx_der);

/* A random password of PFX_PASSWORD_LEN characters (for tests and the CLI). Same ownership. */
int pfx_password_new(char **out);

#endif
