/*
 * ctx.c: opens what a command needs: configuration, database and (optionally) the token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"
#include "db.h"
#include "err.h"
#include "tok.h"

/* The state's own SoftHSM configuration wins: a state folder made by `hsmca init` carries its
 * token, and a stray SOFTHSM2_CONF from the caller's shell must not point elsewhere. */
int
ctx_use_state_softhsm(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/softhsm2.conf", cfg->state_dir);
	if (stat(path, &st) != 0)
		return 0;
	if (setenv("SOFTHSM2_CONF", path, 1) != 0)
		return err_set(HSMCA_E_INTERNAL, "cannot set SOFTHSM2_CONF");
	return 0;
}

int
ctx_open(const char *state_dir, int flags, struct hsmca_ctx **out)
{
	struct hsmca_ctx *ctx = NULL;
	struct tok_config tc;
	struct stat st;
	int rc = HSMCA_E_INTERNAL;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return HSMCA_E_NOMEM;
	rc = config_load(state_dir, &ctx->cfg);
	if (rc != 0)
		goto out;
	if (stat(ctx->cfg.db_path, &st) != 0) {
		rc = err_set(HSMCA_E_NOTFOUND, "%s is not an initialised state folder (no %s); run `hsmca init --state %s` first",
		    ctx->cfg.state_dir, ctx->cfg.db_path, ctx->cfg.state_dir);
		goto out;
	}
	rc = db_open(ctx->cfg.db_path, &ctx->db);
	if (rc != 0)
		goto out;
	if (flags & CTX_NEED_TOKEN) {
		rc = ctx_use_state_softhsm(&ctx->cfg);
		if (rc != 0)
			goto out;
		memset(&tc, 0, sizeof(tc));
		tc.module_path = ctx->cfg.pkcs11_module;
		tc.token_label = ctx->cfg.token_label;
		tc.pin_file = stat(ctx->cfg.pin_file, &st) == 0 ? ctx->cfg.pin_file : NULL;
		tc.pin_env = ctx->cfg.pin_env;
		tc.pool_size = ctx->cfg.token_sessions;
		rc = tok_open(&tc, &ctx->tok);
		if (rc != 0)
			goto out;
	}
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	ctx_close(ctx);
	return rc;
}

void
ctx_close(struct hsmca_ctx *ctx)
{
	if (ctx == NULL)
		return;
	tok_close(ctx->tok);
	db_close(ctx->db);
	free(ctx);
}
