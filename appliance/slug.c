/*
 * slug.c: CA URL names (see slug.h). Pure: no I/O.
 */
#include <stdio.h>
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

void
slug_gen_name(const char *slug, long long gen, char out[SLUG_GEN_MAX])
{
	if (gen <= 1)
		snprintf(out, SLUG_GEN_MAX, "%s", slug);
	else
		snprintf(out, SLUG_GEN_MAX, "%s.g%lld", slug, gen);
}

/* Generations are small: 18 digits keep the value far inside a long long. */
#define SLUG_GEN_DIGITS_MAX 18

int
slug_gen_parse(const char *name, char slug[SLUG_MAX], long long *gen)
{
	const char *dot = strchr(name, '.'), *d;
	size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);
	long long g = 0;

	slug[0] = '\0';
	*gen = 0;
	if (n == 0 || n >= SLUG_MAX)
		return err_set(HSMCA_E_NOTFOUND, "no such CA");
	memcpy(slug, name, n);
	slug[n] = '\0';
	if (!slug_valid(slug))
		goto bad;
	if (dot == NULL) {
		*gen = 1;
		return 0;
	}
	if (dot[1] != 'g' || dot[2] < '1' || dot[2] > '9' || strlen(dot + 2) > SLUG_GEN_DIGITS_MAX)
		goto bad;
	for (d = dot + 2; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			goto bad;
		g = g * 10 + (*d - '0');
	}
	if (g < 2)
		goto bad;
	*gen = g;
	return 0;
bad:
	slug[0] = '\0';
	return err_set(HSMCA_E_NOTFOUND, "no such CA");
}
