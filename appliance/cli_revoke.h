/*
 * cli_revoke.h: `hsmca revoke` and `hsmca crl`, for a console-less operator.
 *
 *   hsmca revoke --state DIR --serial HEX [--reason R]
 *       Shows the certificate and a six-digit code on stderr, reads the code from stdin (the same
 *       two steps as the API), revokes, publishes the CA's CRL and says where it is served.
 *   hsmca crl --state DIR --ca SLUG [--out FILE]
 *       Publishes a new CRL now; --out also writes its DER to FILE.
 * Exit status: 0 done, 1 refused or failed (one line on stderr), 2 usage.
 */
#ifndef HSMCA_CLI_REVOKE_H
#define HSMCA_CLI_REVOKE_H

int cli_revoke(int argc, char **argv);
int cli_crl(int argc, char **argv);

#endif
