/*
 * tls_setup.h: the HTTPS listener's certificate, made at init by the appliance's own CA.
 *
 * The TLS key is a software key in STATE/tls/key.pem (mode 0600): libmicrohttpd's TLS stack
 * needs the key in memory, and it protects only the transport, never a CA. The certificate
 * (STATE/tls/cert.pem: leaf then issuing CA) is issued by ca_slug for every name in
 * cfg.tls_names (DNS names and IP addresses). STATE/tls/ca.pem holds the root for clients.
 */
#ifndef HSMCA_TLS_SETUP_H
#define HSMCA_TLS_SETUP_H

struct hsmca_ctx;

int tls_setup_issue(struct hsmca_ctx *ctx, const char *ca_slug, const char *actor);

#endif
