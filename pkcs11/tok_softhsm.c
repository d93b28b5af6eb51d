/*
 * tok_softhsm.c: sets up the embedded SoftHSM token of a state folder (`hsmca init`).
 *
 * May call: the SoftHSM module directly (C_Initialize, C_InitToken, C_Login as SO, C_InitPIN,
 * C_Finalize); never execs softhsm2-util, never logs a PIN.
 *
 * SoftHSM reads SOFTHSM2_CONF at C_Initialize only. This function initialises the module with the
 * new configuration and finalises it again, so it refuses (HSMCA_E_BUSY) while any token is open
 * in this process (tok_session.c's registry): the module would still be bound to the old token
 * directory. Close every token first; after it returns, tok_open() loads the module afresh.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "tok_internal.h"

#define PIN_LEN 24

/* PIN_LEN characters of a 32-letter alphabet without look-alikes: 120 bits, no bias (32 divides
 * 256). */
static int
random_pin(char out[PIN_LEN + 1])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789A";
	uint8_t r[PIN_LEN];
	int i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
	for (i = 0; i < PIN_LEN; i++)
		out[i] = alphabet[r[i] % 32];
	out[PIN_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* label blank-padded to 32 bytes, as CK_TOKEN_INFO and C_InitToken want it. */
static void
pad_label(const char *label, CK_UTF8CHAR out[32])
{
	size_t n = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, n > 32 ? 32 : n);
}

/* The slot of the first present token matching want_initialised (and label, when given). */
static int
find_slot(CK_FUNCTION_LIST *fl, int want_initialised, const CK_UTF8CHAR *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO info;
	CK_RV rv;

	if ((rv = fl->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		if (fl->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (!!(info.flags & CKF_TOKEN_INITIALIZED) != want_initialised)
			continue;
		if (label != NULL && memcmp(info.label, label, 32) != 0)
			continue;
		*out = slots[i];
		return 0;
	}
	return err_set(HSMCA_E_TOKEN, "SoftHSM offers no %s token slot", want_initialised ? "matching" : "free");
}

static int
init_token(const char *label, const char *so_pin, const char *pin)
{
	void *dl = NULL;
	CK_C_GetFunctionList gfl;
	CK_FUNCTION_LIST *fl = NULL;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_UTF8CHAR plabel[32];
	CK_RV rv;
	int rc = HSMCA_E_TOKEN, initialised = 0;

	if ((dl = dlopen(TOK_DEFAULT_MODULE, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL || gfl(&fl) != CKR_OK) {
		rc = err_set(HSMCA_E_TOKEN, "cannot load %s", TOK_DEFAULT_MODULE);
		goto out;
	}
	rv = fl->C_Initialize(NULL);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* Someone outside tok_session.c initialised it: it reads our new configuration never. */
		rc = err_set(HSMCA_E_BUSY, "SoftHSM is already initialised in this process; cannot switch SOFTHSM2_CONF");
		goto out;
	}
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_Initialize (SoftHSM)", rv);
		goto out;
	}
	initialised = 1;
	pad_label(label, plabel);
	if ((rc = find_slot(fl, 0, NULL, &slot)) != 0)
		goto out;
	if ((rv = fl->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin), plabel)) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_InitToken", rv);
		goto out;
	}
	/* SoftHSM moves a freshly initialised token to a new slot id: look it up again. */
	if ((rc = find_slot(fl, 1, plabel, &slot)) != 0)
		goto out;
	if ((rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_OpenSession", rv);
		goto out;
	}
	if ((rv = fl->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin))) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_Login (SO)", rv);
		goto out;
	}
	rv = fl->C_InitPIN(s, (CK_UTF8CHAR *)pin, strlen(pin));
	fl->C_Logout(s);
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_InitPIN", rv);
		goto out;
	}
	rc = 0;
out:
	if (s != CK_INVALID_HANDLE)
		fl->C_CloseSession(s);
	if (initialised)
		fl->C_Finalize(NULL);
	if (dl != NULL)
		dlclose(dl);
	return rc;
}

int
tok_softhsm_create(const char *state_dir, const char *token_label)
{
	char dir[PATH_MAX], conf_path[PATH_MAX + 32], tokens[PATH_MAX + 32];
	char pin_path[PATH_MAX + 32], so_path[PATH_MAX + 32];
	char pin[PIN_LEN + 1], so_pin[PIN_LEN + 1];
	char *conf = NULL;
	struct stat st;
	int rc = HSMCA_E_INTERNAL, locked = 0, n, wrote = 0;

	if (token_label == NULL || token_label[0] == '\0' || strlen(token_label) > TOK_URI_TOKEN_MAX)
		return err_set(HSMCA_E_INVALID, "token label must be 1 to %d bytes", TOK_URI_TOKEN_MAX);
	if (state_dir == NULL || realpath(state_dir, dir) == NULL)
		return err_set(HSMCA_E_IO, "state folder %s: %s", state_dir ? state_dir : "(none)", strerror(errno));
	snprintf(conf_path, sizeof(conf_path), "%s/softhsm2.conf", dir);
	snprintf(tokens, sizeof(tokens), "%s/tokens", dir);
	snprintf(pin_path, sizeof(pin_path), "%s/pin", dir);
	snprintf(so_path, sizeof(so_path), "%s/so-pin", dir);
	if (stat(conf_path, &st) == 0 || stat(pin_path, &st) == 0)
		return err_set(HSMCA_E_EXISTS, "%s already holds a token (softhsm2.conf or pin present)", dir);

	locked = 1;
	if (!tok_registry_lock_idle()) {
		rc = err_set(HSMCA_E_BUSY, "a token is open in this process; SoftHSM reads SOFTHSM2_CONF only when "
		    "first initialised, so close every token before creating a new one");
		goto out;
	}
	if (mkdir(tokens, 0700) != 0 && errno != EEXIST) {
		rc = err_set(HSMCA_E_IO, "cannot create %s: %s", tokens, strerror(errno));
		goto out;
	}
	n = asprintf(&conf, "# SoftHSM v2 configuration written by hsmca: the token lives in this state folder.\n"
	    "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens);
	if (n < 0) {
		conf = NULL;
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = buf_write_file(conf_path, conf, (size_t)n, 0600)) != 0)
		goto out;
	wrote = 1;
	if (setenv("SOFTHSM2_CONF", conf_path, 1) != 0) {
		rc = err_set(HSMCA_E_INTERNAL, "cannot set SOFTHSM2_CONF");
		goto out;
	}
	if ((rc = random_pin(pin)) != 0 || (rc = random_pin(so_pin)) != 0)
		goto out;
	/* The PINs are on disk before the token exists: a token whose PIN was lost is useless. */
	if ((rc = buf_write_file(pin_path, pin, strlen(pin), 0600)) != 0 ||
	    (rc = buf_write_file(so_path, so_pin, strlen(so_pin), 0600)) != 0)
		goto out;
	if ((rc = init_token(token_label, so_pin, pin)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && wrote) {
		unlink(conf_path);
		unlink(pin_path);
		unlink(so_path);
	}
	if (locked)
		tok_registry_unlock();
	free(conf);
	OPENSSL_cleanse(pin, sizeof(pin));
	OPENSSL_cleanse(so_pin, sizeof(so_pin));
	return rc;
}
