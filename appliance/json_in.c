/*
 * json_in.c: bounded JSON field readers (see json_in.h).
 *
 * May call: jansson, err.h. Must never: read a field without checking its type, or echo more
 * than a short, sanitised piece of a client's key back in an error.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json_in.h"

/* Copies at most 40 printable ASCII bytes of a client-chosen key for an error message. */
static void
safe_key(const char *key, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; key[i] != '\0' && o + 4 < cap && i < 40; i++)
		out[o++] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
	if (key[i] != '\0' && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int
depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *c;
	size_t i;

	if (depth > JSON_IN_MAX_DEPTH)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	}
	return 1;
}

int
json_in_parse(const void *body, size_t len, json_t **out)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	if (body == NULL || len == 0)
		return err_set(HSMCA_E_INVALID, "the request body is empty; a JSON object is required");
	/* jansson's own recursion limit (2048) stops stack exhaustion while parsing; our depth check
	 * after it keeps handlers from walking deep structures. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson's text quotes the input ("near '...'"), which may be part of a password:
		 * keep only the reason, which is ours to show and to log. */
		char *near = strstr(jerr.text, " near ");

		if (near != NULL)
			*near = '\0';
		if (strstr(jerr.text, "\\u0000") != NULL)
			return err_set(HSMCA_E_INVALID, "the request body is not valid JSON (line %d, column %d): "
			    "strings must not contain \\u0000", jerr.line, jerr.column);
		return err_set(HSMCA_E_INVALID, "the request body is not valid JSON (line %d, column %d): %.80s",
		    jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(HSMCA_E_INVALID, "the request body must be a JSON object");
	}
	if (!depth_ok(root, 1)) {
		json_decref(root);
		return err_set(HSMCA_E_INVALID, "the request body is nested more than %d levels deep",
		    JSON_IN_MAX_DEPTH);
	}
	*out = root;
	return 0;
}

int
json_in_only(const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;
	char shown[64];

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			safe_key(key, shown, sizeof(shown));
			return err_set(HSMCA_E_INVALID, "unknown field '%s'", shown);
		}
	}
	return 0;
}

/* The value at key, or NULL when absent or null. HSMCA_E_INVALID when required and absent. */
static int
field(const json_t *obj, const char *key, int required, json_t **v)
{
	*v = json_object_get(obj, key);
	if (*v != NULL && json_is_null(*v))
		*v = NULL;
	if (*v == NULL && required)
		return err_set(HSMCA_E_INVALID, "field '%s' is required", key);
	return 0;
}

static int
check_str(const char *key, const char *s, size_t len, size_t min_len, size_t max_len, int allow_ctl)
{
	size_t i;

	if (strlen(s) != len)
		return err_set(HSMCA_E_INVALID, "field '%s' contains a NUL byte", key);
	if (len < min_len)
		return min_len == 1 ? err_set(HSMCA_E_INVALID, "field '%s' must not be empty", key) :
		    err_set(HSMCA_E_INVALID, "field '%s' must be at least %zu characters", key, min_len);
	if (len > max_len)
		return err_set(HSMCA_E_INVALID, "field '%s' must be at most %zu bytes", key, max_len);
	if (!allow_ctl)
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return err_set(HSMCA_E_INVALID, "field '%s' contains a control character", key);
	return 0;
}

int
json_in_str(const json_t *obj, const char *key, int required, size_t min_len, size_t max_len,
    int allow_ctl, const char **out)
{
	json_t *v;
	int rc;

	*out = NULL;
	if ((rc = field(obj, key, required, &v)) != 0 || v == NULL)
		return rc;
	if (!json_is_string(v))
		return err_set(HSMCA_E_INVALID, "field '%s' must be a string", key);
	if ((rc = check_str(key, json_string_value(v), json_string_length(v), min_len, max_len,
	    allow_ctl)) != 0)
		return rc;
	*out = json_string_value(v);
	return 0;
}

int
json_in_enum(const json_t *obj, const char *key, int required, const char *const *values,
    const char **out)
{
	const char *s;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = json_in_str(obj, key, required, 1, 64, 0, &s)) != 0 || s == NULL)
		return rc;
	for (i = 0; values[i] != NULL; i++)
		if (strcmp(s, values[i]) == 0) {
			*out = values[i];
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "field '%s' has an unknown value", key);
}

int
json_in_int(const json_t *obj, const char *key, int required, int64_t min, int64_t max,
    int64_t dflt, int64_t *out)
{
	json_t *v;
	json_int_t i;
	int rc;

	*out = dflt;
	if ((rc = field(obj, key, required, &v)) != 0 || v == NULL)
		return rc;
	if (!json_is_integer(v))
		return err_set(HSMCA_E_INVALID, "field '%s' must be an integer", key);
	i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(HSMCA_E_INVALID, "field '%s' must be between %lld and %lld", key,
		    (long long)min, (long long)max);
	*out = i;
	return 0;
}

int
json_in_bool(const json_t *obj, const char *key, int required, int dflt, int *out)
{
	json_t *v;
	int rc;

	*out = dflt;
	if ((rc = field(obj, key, required, &v)) != 0 || v == NULL)
		return rc;
	if (!json_is_boolean(v))
		return err_set(HSMCA_E_INVALID, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
json_in_str_array(const json_t *obj, const char *key, int required, size_t max_items,
    size_t max_len, const char ***items, size_t *n)
{
	const char **list = NULL;
	json_t *v, *e;
	size_t i;
	int rc;

	*items = NULL;
	*n = 0;
	if ((rc = field(obj, key, required, &v)) != 0 || v == NULL)
		return rc;
	if (!json_is_array(v))
		return err_set(HSMCA_E_INVALID, "field '%s' must be an array of strings", key);
	if (json_array_size(v) > max_items)
		return err_set(HSMCA_E_INVALID, "field '%s' has more than %zu items", key, max_items);
	list = calloc(json_array_size(v) + 1, sizeof(*list));
	if (list == NULL)
		return HSMCA_E_NOMEM;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			rc = err_set(HSMCA_E_INVALID, "field '%s' must be an array of strings", key);
			goto fail;
		}
		if ((rc = check_str(key, json_string_value(e), json_string_length(e), 1, max_len, 0)) != 0)
			goto fail;
		list[i] = json_string_value(e);
	}
	*items = list;
	*n = json_array_size(v);
	return 0;
fail:
	free(list);
	return rc;
}

int
json_in_int_array(const json_t *obj, const char *key, int required, size_t max_items,
    int64_t min, int64_t max, int64_t **items, size_t *n)
{
	int64_t *list = NULL;
	json_t *v, *e;
	size_t i;
	int rc;

	*items = NULL;
	*n = 0;
	if ((rc = field(obj, key, required, &v)) != 0 || v == NULL)
		return rc;
	if (!json_is_array(v))
		return err_set(HSMCA_E_INVALID, "field '%s' must be an array of integers", key);
	if (json_array_size(v) > max_items)
		return err_set(HSMCA_E_INVALID, "field '%s' has more than %zu items", key, max_items);
	list = calloc(json_array_size(v) + 1, sizeof(*list));
	if (list == NULL)
		return HSMCA_E_NOMEM;
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < min || json_integer_value(e) > max) {
			free(list);
			return err_set(HSMCA_E_INVALID, "field '%s' must hold integers between %lld and %lld",
			    key, (long long)min, (long long)max);
		}
		list[i] = json_integer_value(e);
	}
	*items = list;
	*n = json_array_size(v);
	return 0;
}
