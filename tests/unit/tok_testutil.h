/*
 * tok_testutil.h: a real SoftHSM token in a fresh temp folder, for any unit test that needs one.
 * Header-only (static inline, so a test may use either helper alone).
 *
 * SoftHSM reads SOFTHSM2_CONF once per C_Initialize: tok_softhsm_create() refuses while a token
 * is open in the process, so call tok_test_cleanup() before making the next token.
 *
 *   char dir[256]; struct tok *tok;
 *   if (tok_test_token(dir, sizeof(dir), &tok) != 0) fail();
 *   ...
 *   tok_test_cleanup(dir, tok);
 */
#ifndef HSMCA_TOK_TESTUTIL_H
#define HSMCA_TOK_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "tok.h"

#define TOK_TEST_LABEL "hsmca-test"

/* Makes <HSMCA_TEST_TMP or /tmp>/tok.XXXXXX, a SoftHSM token labelled TOK_TEST_LABEL in it
 * (SOFTHSM2_CONF now points there) and opens it with the PIN file. dir_out gets the folder.
 * Returns 0, or the failing HSMCA_E_* after printing err_msg() to stderr. */
static inline int
tok_test_token(char *dir_out, size_t n, struct tok **tok_out)
{
	const char *tmp = getenv("HSMCA_TEST_TMP");
	char pin_file[512];
	struct tok_config cfg;
	int rc;

	*tok_out = NULL;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	if ((size_t)snprintf(dir_out, n, "%s/tok.XXXXXX", tmp) >= n || mkdtemp(dir_out) == NULL) {
		fprintf(stderr, "tok_test_token: cannot make a temp folder under %s\n", tmp);
		return HSMCA_E_IO;
	}
	if ((rc = tok_softhsm_create(dir_out, TOK_TEST_LABEL)) != 0) {
		fprintf(stderr, "tok_softhsm_create: %s\n", err_msg(rc));
		return rc;
	}
	snprintf(pin_file, sizeof(pin_file), "%s/pin", dir_out);
	memset(&cfg, 0, sizeof(cfg));
	cfg.token_label = TOK_TEST_LABEL;
	cfg.pin_file = pin_file;
	if ((rc = tok_open(&cfg, tok_out)) != 0) {
		fprintf(stderr, "tok_open: %s\n", err_msg(rc));
		return rc;
	}
	return 0;
}

static inline int
tok_test_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Closes tok (may be NULL) and removes dir (only a folder tok_test_token made). */
static inline void
tok_test_cleanup(const char *dir, struct tok *tok)
{
	tok_close(tok);
	if (dir != NULL && strstr(dir, "/tok.") != NULL)
		(void)nftw(dir, tok_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
