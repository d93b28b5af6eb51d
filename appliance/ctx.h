/*
 * ctx.h: what a command or the daemon holds open: configuration, database, token.
 */
#ifndef HSMCA_CTX_H
#define HSMCA_CTX_H

#include "config.h"

struct db;
struct tok;

struct hsmca_ctx {
	struct config cfg;
	struct db *db;     /* this thread's connection */
	struct tok *tok;   /* shared by all threads; NULL when opened without the token */
};

#define CTX_NEED_TOKEN 0x1

/* Loads the configuration for state_dir (see config_load), opens the database and, with
 * CTX_NEED_TOKEN, the token. HSMCA_E_NOTFOUND when state_dir was never initialised. */
int ctx_open(const char *state_dir, int flags, struct hsmca_ctx **out);
void ctx_close(struct hsmca_ctx *ctx);

/* Points SOFTHSM2_CONF at STATE/softhsm2.conf when the state folder has one (made by init). */
int ctx_use_state_softhsm(const struct config *cfg);

#endif
