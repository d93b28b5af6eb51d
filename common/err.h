/*
 * err.h: error codes shared by every hsmca library, and a per-thread detail message.
 *
 * Every fallible function returns 0 or a negative HSMCA_E_* code (or NULL for pointers).
 * Where the context is known (which CA, which field, which client), the failing function
 * also records one human sentence with err_set(); the outermost caller (CLI, HTTP layer)
 * shows it. The detail is thread-local, so concurrent requests never see each other's text.
 * Never put a secret (PIN, password, token, challenge, code) in a detail message.
 */
#ifndef HSMCA_ERR_H
#define HSMCA_ERR_H

enum hsmca_err {
	HSMCA_OK = 0,
	HSMCA_E_INTERNAL = -1,   /* a bug or an unexpected library failure */
	HSMCA_E_NOMEM = -2,
	HSMCA_E_INVALID = -3,    /* malformed input: bad DER, bad JSON, bad argument */
	HSMCA_E_NOTFOUND = -4,   /* unknown id, slug, serial, key */
	HSMCA_E_EXISTS = -5,     /* already there: slug taken, state already initialised */
	HSMCA_E_POLICY = -6,     /* well-formed but refused: weak key, validity, profile */
	HSMCA_E_TOKEN = -7,      /* the PKCS#11 module or token failed */
	HSMCA_E_PIN = -8,        /* login refused: wrong or missing PIN */
	HSMCA_E_DB = -9,         /* the database failed */
	HSMCA_E_IO = -10,        /* a file could not be read or written */
	HSMCA_E_AUTH = -11,      /* not authenticated */
	HSMCA_E_PERM = -12,      /* authenticated but not allowed */
	HSMCA_E_CONFLICT = -13,  /* the object's state forbids it (revoked, in use, not exportable) */
	HSMCA_E_TOOLARGE = -14,  /* input over a configured limit */
	HSMCA_E_BUSY = -15,      /* try again later */
	HSMCA_E__MIN = -16
};

/* Short fixed text for a code; never NULL. */
const char *hsmca_strerror(int code);

/* Records the detail for the current thread (printf-style, truncated at 512 bytes). Returns code,
 * so a failure path can read: return err_set(HSMCA_E_INVALID, "CSR: %s", why); */
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current thread's detail, or hsmca_strerror(code) when none was recorded since err_clear(). */
const char *err_msg(int code);

/* Forget the current thread's detail; call at the start of each request or command. */
void err_clear(void);

/* Appends OpenSSL's queued errors (and empties the queue) to the current detail, so that stale
 * entries never surface on a later request. */
void err_drain_openssl(void);

#endif
