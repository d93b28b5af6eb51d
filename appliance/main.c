/*
 * main.c: subcommand dispatch only. Each subcommand lives in its cli_*.c / serve.c file and
 * receives argv starting at its own name.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cli_ca.h"
#include "cli_init.h"
#include "cli_revoke.h"
#include "cli_user.h"
#include "err.h"
#include "serve.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cli_init, "create the token, database, demo CAs and the admin user" },
	{ "serve", cli_serve, "run the appliance daemon" },
	{ "ca", cli_ca, "create, import, list and show certificate authorities" },
	{ "issue", cli_issue, "issue a certificate from a CSR" },
	{ "csr", cli_csr, "generate a key on the token and print its CSR" },
	{ "revoke", cli_revoke, "revoke a certificate (asks for a six-digit confirmation code)" },
	{ "crl", cli_crl, "publish a CA's CRL now" },
	{ "audit", cli_audit, "verify the audit trail" },
	{ "user", cli_user, "add, change and disable local users" },
	{ "token", cli_token, "create API tokens" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hsmca COMMAND [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEvery command takes --state DIR (default: $HSMCA_STATE, else ./var).\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Everything hsmca writes (database, PIN, keys, token files) is for its own user only;
	 * files meant to be shared (certificates) get their mode explicitly. */
	umask(077);
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hsmca: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
