/*
 * ca_testutil.h: fixture for tests of ca.c and issue.c: a temp state folder with a real SoftHSM
 * token (tok_softhsm_create, which points SOFTHSM2_CONF at it), a real database, and an open
 * struct hsmca_ctx, plus row-count and token-key-count helpers. Header-only (static functions),
 * for test_ca.c and test_issue.c.
 */
#ifndef HSMCA_CA_TESTUTIL_H
#define HSMCA_CA_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctx.h"
#include "db.h"
#include "err.h"
#include "tok.h"

struct ca_fx {
	char dir[256];
	struct hsmca_ctx *ctx;
};

static int
ca_fx_open(struct ca_fx *fx)
{
	const char *tmp = getenv("HSMCA_TEST_TMP");
	char path[400];
	struct db *db = NULL;

	memset(fx, 0, sizeof(*fx));
	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_ca.XXXXXX", tmp);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	unsetenv("HSMCA_CONFIG");
	if (tok_softhsm_create(fx->dir, "hsmca") != 0) {
		fprintf(stderr, "tok_softhsm_create: %s\n", err_msg(-1));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/hsmca.db", fx->dir);
	if (db_open(path, &db) != 0)
		return -1;
	db_close(db);
	if (ctx_open(fx->dir, CTX_NEED_TOKEN, &fx->ctx) != 0) {
		fprintf(stderr, "ctx_open: %s\n", err_msg(-1));
		return -1;
	}
	return 0;
}

static void
ca_fx_close(struct ca_fx *fx)
{
	char cmd[400];

	ctx_close(fx->ctx);
	fx->ctx = NULL;
	if (fx->dir[0] != '\0' && strstr(fx->dir, "/test_ca.") != NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", fx->dir);
	}
}

/* "cas=1 certificates=0 ..." for the tables an issuance or CA change may touch. */
static void
ca_fx_counts(struct ca_fx *fx, char *out, size_t n)
{
	static const char *tables[] = { "cas", "certificates", "orders", "audit", "crls" };
	sqlite3_stmt *st = NULL;
	char sql[100];
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		if (sqlite3_prepare_v2(db_handle(fx->ctx->db), sql, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			abort();
		used += (size_t)snprintf(out + used, n - used, "%s=%d ", tables[i], sqlite3_column_int(st, 0));
		sqlite3_finalize(st);
	}
}

static size_t
ca_fx_token_keys(struct ca_fx *fx)
{
	struct tok_key_info *keys = NULL;
	size_t n = 0;

	if (tok_list_keys(fx->ctx->tok, &keys, &n) != 0)
		abort();
	tok_key_list_free(keys, n);
	return n;
}

#endif
