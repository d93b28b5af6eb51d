/*
 * cli_ca.h: the `ca`, `issue`, `csr` and `audit` subcommands. Each takes argv starting at its own
 * name (argv[0] = "ca", ...), prints results on stdout and, on failure, one line
 * "hsmca: <what is wrong>" on stderr, returning non-zero (1 for a failure, 2 for a usage error).
 *
 *   hsmca ca create-root --state DIR --name NAME [--key ec-384] [--days 3650]
 *   hsmca ca create-intermediate --state DIR --parent SLUG --name NAME [--key rsa-2048] [--days 1825]
 *   hsmca ca import --state DIR --name NAME --cert FILE (--key FILE | --pkcs12 FILE --password-file F | --keyref URI)
 *   hsmca ca list --state DIR
 *   hsmca ca show SLUG --state DIR [--pem | --chain]
 *   hsmca ca rollover --state DIR [--key rsa-2048] [--days N] SLUG   (ca_rollover.h)
 *   hsmca ca activate-rollover --state DIR SLUG
 *   hsmca ca cancel-rollover --state DIR SLUG
 *   hsmca issue --state DIR --ca SLUG --csr FILE [--profile server] [--days N]
 *   hsmca csr --state DIR --key-label L --key ec-256 --subject "CN=..." [--san DNS:x --san IP:y]
 *   hsmca audit verify --state DIR
 */
#ifndef HSMCA_CLI_CA_H
#define HSMCA_CLI_CA_H

int cli_ca(int argc, char **argv);
int cli_issue(int argc, char **argv);
int cli_csr(int argc, char **argv);
int cli_audit(int argc, char **argv);

#endif
