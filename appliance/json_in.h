/*
 * json_in.h: typed, bounded readers for JSON request bodies (the kcgi validator idea).
 *
 * A handler parses the body with json_in_parse (length-bounded, duplicate keys rejected, an
 * object required), declares the keys it accepts with json_in_only (anything else is refused, so a
 * typo such as "validity_day" is an error and not a silent default), then reads each field with a
 * reader that checks type, presence and bounds. Every failure is HSMCA_E_INVALID with a detail
 * naming the field, which the HTTP layer turns into a 400.
 *
 * Strings returned are borrowed from the json_t and live as long as it does. JSON null counts as
 * absent. Pure: no I/O, no globals; safe from any thread.
 */
#ifndef HSMCA_JSON_IN_H
#define HSMCA_JSON_IN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Nesting deeper than this is refused before any field is read. */
#define JSON_IN_MAX_DEPTH 16

/* Parses len bytes as one JSON object. Rejects invalid UTF-8, \u0000 in strings, duplicate keys,
 * trailing data, non-objects and nesting over JSON_IN_MAX_DEPTH. *out: caller json_decref()s. */
int json_in_parse(const void *body, size_t len, json_t **out);

/* Refuses any key of obj not in allowed (NULL-terminated). */
int json_in_only(const json_t *obj, const char *const *allowed);

/* A string of min_len..max_len bytes. No control characters (< 0x20, 0x7f) unless allow_ctl.
 * Absent and optional: *out = NULL, returns 0. */
int json_in_str(const json_t *obj, const char *key, int required, size_t min_len, size_t max_len,
    int allow_ctl, const char **out);

/* A string that must equal one of values (NULL-terminated). Absent and optional: *out = NULL. */
int json_in_enum(const json_t *obj, const char *key, int required, const char *const *values,
    const char **out);

/* An integer (not a real, not a string) in min..max. Absent and optional: *out = dflt. */
int json_in_int(const json_t *obj, const char *key, int required, int64_t min, int64_t max,
    int64_t dflt, int64_t *out);

/* true/false. Absent and optional: *out = dflt. */
int json_in_bool(const json_t *obj, const char *key, int required, int dflt, int *out);

/* An array of 0..max_items strings of 1..max_len bytes each (no control characters).
 * *items: malloc'd array of borrowed pointers, caller free()s the array (not the strings);
 * NULL with *n = 0 when absent and optional. */
int json_in_str_array(const json_t *obj, const char *key, int required, size_t max_items,
    size_t max_len, const char ***items, size_t *n);

/* An array of 0..max_items integers in min..max. *items malloc'd, caller free()s. */
int json_in_int_array(const json_t *obj, const char *key, int required, size_t max_items,
    int64_t min, int64_t max, int64_t **items, size_t *n);

#endif
