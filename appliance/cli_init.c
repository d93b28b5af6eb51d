/*
 * cli_init.c: `hsmca init --state DIR` makes a state folder ready to serve.
 *
 * In order: the state folder (0700); with the default SoftHSM module, a token of its own inside
 * it (tok_softhsm_create: STATE/softhsm2.conf, STATE/tokens, STATE/pin); the database; a demo
 * root CA (EC P-384) and issuing CA; the HTTPS certificate; an admin user with a generated
 * password printed once. Any failure removes what this run created, so a failed init leaves no
 * half-initialised folder behind (the folder itself is kept if it existed before).
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "ca.h"
#include "cli_init.h"
#include "config.h"
#include "ctx.h"
#include "db.h"
#include "db_cas.h"
#include "db_users.h"
#include "err.h"
#include "passwd.h"
#include "tls_setup.h"
#include "tok.h"

#define INIT_ACTOR "cli:init"

struct init_opts {
	const char *state;
	const char *admin;
	const char *root_name;
	const char *issuing_name;
	const char *issuing_key;
};

static int
init_usage(void)
{
	fprintf(stderr, "usage: hsmca init --state DIR [--admin NAME] [--root-name NAME] "
	    "[--issuing-name NAME] [--issuing-key SPEC]\n");
	return 2;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Removes what init created: everything in the folder, and the folder when init made it. */
static void
init_undo(const char *state, int made_dir)
{
	char path[CONFIG_PATH_MAX + 32];
	static const char *const made[] = { "tokens", "tls", "softhsm2.conf", "pin", "so-pin",
		"hsmca.db", "hsmca.db-wal", "hsmca.db-shm" };
	size_t i;

	if (made_dir) {
		nftw(state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return;
	}
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state, made[i]);
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static int
init_is_default_softhsm(const struct config *cfg)
{
	return strcmp(cfg->pkcs11_module, TOK_DEFAULT_MODULE) == 0;
}

/* The state folder must be new, or empty of everything init writes. */
static int
init_check_fresh(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/tokens", cfg->state_dir);
	if (stat(cfg->db_path, &st) == 0 || stat(path, &st) == 0)
		return err_set(HSMCA_E_EXISTS, "%s is already initialised (it holds a database or a token); "
		    "choose another --state folder", cfg->state_dir);
	return 0;
}

static int
init_admin(struct hsmca_ctx *ctx, const char *username, char **password_out)
{
	char *password = NULL, *hash = NULL;
	int64_t id;
	int rc;

	*password_out = NULL;
	rc = passwd_generate(&password);
	if (rc != 0)
		goto out;
	rc = passwd_hash(password, &hash);
	if (rc != 0)
		goto out;
	rc = db_begin(ctx->db);
	if (rc != 0)
		goto out;
	rc = db_users_create(ctx->db, username, NULL, "admin", hash, 0, &id);
	if (rc == 0)
		rc = audit_write(ctx->db, INIT_ACTOR, NULL, "user.created", username,
		    "{\"role\":\"admin\",\"source\":\"init\"}");
	if (rc == 0)
		rc = db_commit(ctx->db);
	if (rc != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	*password_out = password;
	password = NULL;
out:
	free(hash);
	passwd_free(password);
	return rc;
}

static int
init_run(const struct init_opts *o)
{
	struct hsmca_ctx *ctx = NULL;
	struct config cfg;
	struct db *db = NULL;
	struct db_ca *root = NULL, *issuing = NULL;
	struct ca_create_req creq;
	char *password = NULL, saved[512];
	struct stat st;
	int rc, made_dir = 0;
	enum tok_key_spec issuing_spec;

	rc = tok_key_spec_parse(o->issuing_key, &issuing_spec);
	if (rc != 0)
		return rc;
	rc = config_load(o->state, &cfg);
	if (rc != 0)
		return rc;
	rc = init_check_fresh(&cfg);
	if (rc != 0)
		return rc;
	if (stat(cfg.state_dir, &st) != 0) {
		if (mkdir(cfg.state_dir, 0700) != 0)
			return err_set(HSMCA_E_IO, "cannot create %s: %s", cfg.state_dir, strerror(errno));
		made_dir = 1;
	}
	if (init_is_default_softhsm(&cfg)) {
		rc = tok_softhsm_create(cfg.state_dir, cfg.token_label);
		if (rc != 0)
			goto out;
	}
	/* db_open creates the file and the schema; ctx_open then finds an initialised folder. */
	rc = db_open(cfg.db_path, &db);
	if (rc != 0)
		goto out;
	db_close(db);
	db = NULL;
	rc = ctx_open(cfg.state_dir, CTX_NEED_TOKEN, &ctx);
	if (rc != 0)
		goto out;
	memset(&creq, 0, sizeof(creq));
	creq.name = o->root_name;
	creq.key_spec = "ec-384";
	creq.days = 3650;
	creq.pathlen = -1;
	creq.actor = INIT_ACTOR;
	rc = ca_create_root(ctx, &creq, &root);
	if (rc != 0)
		goto out;
	creq.name = o->issuing_name;
	creq.key_spec = o->issuing_key;
	creq.days = 1825;
	creq.parent_slug = root->slug;
	creq.pathlen = 0;
	rc = ca_create_intermediate(ctx, &creq, &issuing);
	if (rc != 0)
		goto out;
	rc = tls_setup_issue(ctx, issuing->slug, INIT_ACTOR);
	if (rc != 0)
		goto out;
	rc = init_admin(ctx, o->admin, &password);
	if (rc != 0)
		goto out;
	printf("state folder:   %s\n", cfg.state_dir);
	printf("token:          %s (%s)\n", cfg.token_label, cfg.pkcs11_module);
	printf("database:       %s\n", cfg.db_path);
	printf("root CA:        %s (%s)\n", root->slug, root->key_spec);
	printf("issuing CA:     %s (%s)\n", issuing->slug, issuing->key_spec);
	printf("HTTPS cert:     %s/tls/cert.pem (trust %s/tls/ca.pem)\n", cfg.state_dir, cfg.state_dir);
	printf("admin user:     %s\n", o->admin);
	/* Shown once: only its scrypt hash is stored. */
	printf("admin password: %s\n", password);
	fflush(stdout);
out:
	if (rc != 0) {
		/* Keep the message: closing and undoing may record details of their own. */
		snprintf(saved, sizeof(saved), "%s", err_msg(rc));
		ctx_close(ctx);
		ctx = NULL;
		db_close(db);
		db = NULL;
		init_undo(cfg.state_dir, made_dir);
		err_set(rc, "%s", saved);
	}
	passwd_free(password);
	db_ca_free(issuing);
	db_ca_free(root);
	ctx_close(ctx);
	db_close(db);
	return rc;
}

int
cli_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "admin", required_argument, NULL, 'a' },
		{ "root-name", required_argument, NULL, 'r' },
		{ "issuing-name", required_argument, NULL, 'i' },
		{ "issuing-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct init_opts o = { NULL, "admin", "Demo Root CA", "Demo Issuing CA", "rsa-2048" };
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.state = optarg; break;
		case 'a': o.admin = optarg; break;
		case 'r': o.root_name = optarg; break;
		case 'i': o.issuing_name = optarg; break;
		case 'k': o.issuing_key = optarg; break;
		case 'h': init_usage(); return 0;
		default: return init_usage();
		}
	}
	if (optind != argc)
		return init_usage();
	err_clear();
	rc = init_run(&o);
	if (rc != 0) {
		fprintf(stderr, "hsmca: init: %s\n", err_msg(rc));
		return 1;
	}
	return 0;
}
