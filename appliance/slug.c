/*
 * slug.c: CA URL names (see slug.h). Pure: no I/O.
 */
#include <string.h>

#include "err.h"
#include "slug.h"

int
slug_from_name(const char *name, char out[SLUG_MAX])
{
	size_t n = 0;
	int dash = 0;
	unsigned char c;

	out[0] = '\0';
	for (; *name != '\0'; name++) {
		c = (unsigned char)*name;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			/* One '-' stands for the run of other bytes before this one, never leading. */
			if (dash && n > 0) {
				if (n + 1 >= SLUG_MAX)
					goto toolong;
				out[n++] = '-';
			}
			dash = 0;
			if (n + 1 >= SLUG_MAX)
				goto toolong;
			out[n++] = (char)c;
		} else {
			dash = 1;
		}
	}
	out[n] = '\0';
	if (n == 0)
		return err_set(HSMCA_E_INVALID, "the name must contain a letter or digit (it gives the CA's URL name)");
	return 0;
toolong:
	out[0] = '\0';
	return err_set(HSMCA_E_INVALID, "the name is too long: its URL name would exceed %d characters",
	    SLUG_MAX - 1);
}

int
slug_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '-' && s[i + 1] != '-')
			continue;
		return 0;
	}
	return 1;
}
