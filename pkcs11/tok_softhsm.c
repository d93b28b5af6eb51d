/*
 * tok_softhsm.c: the embedded default token: a SoftHSM token inside the state folder.
 *
 * `hsmca init` calls tok_softhsm_create before anything else loads the module: SoftHSM reads
 * SOFTHSM2_CONF once, at C_Initialize, so a process that already initialised the module with
 * another configuration cannot create a token here. The raw function list is used (and
 * finalised) so libp11 later starts on a clean module.
 */
#include <dlfcn.h>
#include <errno.h>
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

/* A PIN from an unambiguous alphabet, rejection-sampled so every character is equally likely. */
static int
random_pin(char pin[PIN_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
	const unsigned n = sizeof(alphabet) - 1, limit = 256 - 256 % (sizeof(alphabet) - 1);
	unsigned char r;
	int i = 0;

	while (i < PIN_LEN) {
		if (RAND_bytes(&r, 1) != 1)
			return err_set(HSMCA_E_INTERNAL, "no randomness for a PIN");
		if (r < limit)
			pin[i++] = alphabet[r % n];
	}
	pin[PIN_LEN] = '\0';
	return 0;
}

static void
pad32(CK_UTF8CHAR out[32], const char *label)
{
	size_t n = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, n > 32 ? 32 : n);
}

/* C_InitToken on the free slot, then the user PIN, with the raw function list. */
static int
softhsm_init_token(const char *label, const char *so_pin, const char *user_pin)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_FUNCTION_LIST_PTR fl = NULL;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO info;
	CK_UTF8CHAR lab[32];
	CK_SESSION_HANDLE s;
	CK_SLOT_ID target = (CK_SLOT_ID)-1;
	void *dl;
	CK_RV rv;
	int rc = HSMCA_E_TOKEN, initialised = 0;

	dl = dlopen(TOK_DEFAULT_MODULE, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return err_set(HSMCA_E_TOKEN, "cannot load %s: %s (is softhsm2 installed?)", TOK_DEFAULT_MODULE, dlerror());
	*(void **)&get_list = dlsym(dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&fl) != CKR_OK)
		goto out;
	rv = fl->C_Initialize(NULL);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = err_set(HSMCA_E_TOKEN, "the token module was already started in this process");
		goto out;
	}
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_Initialize", rv);
		goto out;
	}
	initialised = 1;
	if ((rv = fl->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_GetSlotList", rv);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (fl->C_GetTokenInfo(slots[i], &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) {
			target = slots[i];
			break;
		}
	if (target == (CK_SLOT_ID)-1) {
		rc = err_set(HSMCA_E_TOKEN, "SoftHSM offers no free slot");
		goto out;
	}
	pad32(lab, label);
	rv = fl->C_InitToken(target, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), lab);
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_InitToken", rv);
		goto out;
	}
	/* SoftHSM moves an initialised token to a new slot id: find it again by label. */
	n = 64;
	target = (CK_SLOT_ID)-1;
	if (fl->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK)
		for (i = 0; i < n; i++)
			if (fl->C_GetTokenInfo(slots[i], &info) == CKR_OK && (info.flags & CKF_TOKEN_INITIALIZED) &&
			    memcmp(info.label, lab, 32) == 0) {
				target = slots[i];
				break;
			}
	if (target == (CK_SLOT_ID)-1) {
		rc = err_set(HSMCA_E_TOKEN, "the new token '%s' cannot be found", label);
		goto out;
	}
	rv = fl->C_OpenSession(target, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv == CKR_OK) {
		rv = fl->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin));
		if (rv == CKR_OK) {
			rv = fl->C_InitPIN(s, (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin));
			fl->C_Logout(s);
		}
		fl->C_CloseSession(s);
	}
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "setting the user PIN", rv);
		goto out;
	}
	rc = 0;
out:
	if (rc == HSMCA_E_TOKEN && err_msg(rc) == hsmca_strerror(rc))
		err_set(rc, "cannot use the SoftHSM module");
	if (initialised)
		fl->C_Finalize(NULL);
	dlclose(dl);
	return rc;
}

int
tok_softhsm_create(const char *state_dir, const char *token_label)
{
	char abs_state[4096], conf[4200], tokens[4200], path[4200], text[8400];
	char so_pin[PIN_LEN + 1], user_pin[PIN_LEN + 1];
	struct stat st;
	int rc, n;

	if (token_label == NULL || *token_label == '\0' || strlen(token_label) > 32)
		return err_set(HSMCA_E_INVALID, "token label must be 1 to 32 characters");
	if (realpath(state_dir, abs_state) == NULL)
		return err_set(HSMCA_E_IO, "state folder %s: %s", state_dir, strerror(errno));
	snprintf(tokens, sizeof(tokens), "%s/tokens", abs_state);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", abs_state);
	if (stat(tokens, &st) == 0 || stat(conf, &st) == 0)
		return err_set(HSMCA_E_EXISTS, "%s already holds a token; it is already initialised", state_dir);
	if (mkdir(tokens, 0700) != 0)
		return err_set(HSMCA_E_IO, "cannot create %s: %s", tokens, strerror(errno));
	n = snprintf(text, sizeof(text),
	    "# SoftHSM configuration of this hsmca state folder (written by hsmca init)\n"
	    "directories.tokendir = %s\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n"
	    "slots.removable = false\n", tokens);
	if ((rc = buf_write_file(conf, text, (size_t)n, 0600)) != 0)
		return rc;
	if (setenv("SOFTHSM2_CONF", conf, 1) != 0)
		return err_set(HSMCA_E_INTERNAL, "cannot set SOFTHSM2_CONF");
	if ((rc = random_pin(so_pin)) != 0 || (rc = random_pin(user_pin)) != 0)
		goto out;
	rc = softhsm_init_token(token_label, so_pin, user_pin);
	if (rc != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/pin", abs_state);
	if ((rc = buf_write_file(path, user_pin, strlen(user_pin), 0600)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/so-pin", abs_state);
	rc = buf_write_file(path, so_pin, strlen(so_pin), 0600);
out:
	OPENSSL_cleanse(so_pin, sizeof(so_pin));
	OPENSSL_cleanse(user_pin, sizeof(user_pin));
	return rc;
}
