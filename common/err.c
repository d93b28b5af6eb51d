/* err.c: error texts and the per-thread detail message (see err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "err.h"

static _Thread_local char err_detail[512];

const char *
hsmca_strerror(int code)
{
	switch (code) {
	case HSMCA_OK: return "success";
	case HSMCA_E_INTERNAL: return "internal error";
	case HSMCA_E_NOMEM: return "out of memory";
	case HSMCA_E_INVALID: return "invalid input";
	case HSMCA_E_NOTFOUND: return "not found";
	case HSMCA_E_EXISTS: return "already exists";
	case HSMCA_E_POLICY: return "refused by policy";
	case HSMCA_E_TOKEN: return "token error";
	case HSMCA_E_PIN: return "token login failed";
	case HSMCA_E_DB: return "database error";
	case HSMCA_E_IO: return "file error";
	case HSMCA_E_AUTH: return "not authenticated";
	case HSMCA_E_PERM: return "not allowed";
	case HSMCA_E_CONFLICT: return "conflict";
	case HSMCA_E_TOOLARGE: return "too large";
	case HSMCA_E_BUSY: return "busy";
	default: return "unknown error";
	}
}

int
err_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
	va_end(ap);
	return code;
}

const char *
err_msg(int code)
{
	return err_detail[0] != '\0' ? err_detail : hsmca_strerror(code);
}

void
err_clear(void)
{
	err_detail[0] = '\0';
	ERR_clear_error();
}

void
err_drain_openssl(void)
{
	unsigned long e;
	size_t used;
	char one[256];

	while ((e = ERR_get_error()) != 0) {
		used = strlen(err_detail);
		ERR_error_string_n(e, one, sizeof(one));
		if (used + strlen(one) + 4 < sizeof(err_detail))
			snprintf(err_detail + used, sizeof(err_detail) - used, " [%s]", one);
	}
}
