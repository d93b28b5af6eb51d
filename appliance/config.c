/*
 * config.c: reads the configuration once at start (see config.h).
 *
 * A table maps each key to its field, type and range, so that defaults, file lines and
 * environment overrides go through the same checks, and an unknown key or a value out of range
 * is refused with a message naming the key (and the line, for files).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "err.h"

#define CONFIG_FILE_MAX_BYTES (64 * 1024)

enum config_type { CT_STR, CT_INT, CT_SIZE, CT_BOOL };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size;       /* CT_STR: capacity */
	long long min, max;
	const char *def;   /* default; "@state/..." is relative to the state directory */
};

#define STR(f, d) { #f, CT_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, d }
#define INT(f, lo, hi, d) { #f, CT_INT, offsetof(struct config, f), sizeof(int), lo, hi, d }
#define SIZE(f, lo, hi, d) { #f, CT_SIZE, offsetof(struct config, f), sizeof(size_t), lo, hi, d }
#define BOOL(f, d) { #f, CT_BOOL, offsetof(struct config, f), sizeof(int), 0, 1, d }

static const struct config_key config_keys[] = {
	STR(db_path, "@state/hsmca.db"),
	STR(pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so"),
	STR(token_label, "hsmca"),
	STR(pin_file, "@state/pin"),
	STR(pin_env, "HSMCA_PIN"),
	INT(token_sessions, 1, 64, "4"),
	STR(public_base_url, "http://localhost:8080"),
	STR(http_listen, "0.0.0.0:8080"),
	STR(https_listen, "0.0.0.0:8443"),
	STR(tls_names, "localhost,127.0.0.1"),
	INT(worker_threads, 1, 256, "4"),
	SIZE(max_json_body_bytes, 1024, 64LL * 1024 * 1024, "1048576"),
	SIZE(max_scep_body_bytes, 1024, 16LL * 1024 * 1024, "262144"),
	INT(max_connections, 1, 100000, "512"),
	INT(max_connections_per_ip, 1, 100000, "64"),
	INT(connection_timeout_s, 1, 3600, "30"),
	INT(login_max_failures, 1, 1000, "5"),
	INT(session_ttl_minutes, 1, 7 * 24 * 60, "480"),
	BOOL(totp_required, "0"),
	INT(crl_validity_days, 1, 365, "7"),
	INT(crl_batch_seconds, 0, 300, "2"),
	INT(default_leaf_days, 1, 3650, "365"),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config_key *
config_find(const char *key)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].name, key) == 0)
			return &config_keys[i];
	return NULL;
}

static int
where(char *out, size_t n, int line_no)
{
	if (line_no > 0)
		return snprintf(out, n, " (line %d)", line_no);
	out[0] = '\0';
	return 0;
}

int
config_set(struct config *cfg, const char *key, const char *value, int line_no)
{
	const struct config_key *k;
	char at[32], *end;
	long long v;
	char *field;

	where(at, sizeof(at), line_no);
	k = config_find(key);
	if (k == NULL)
		return err_set(HSMCA_E_INVALID, "configuration: unknown key '%s'%s", key, at);
	field = (char *)cfg + k->offset;
	switch (k->type) {
	case CT_STR:
		if (strncmp(value, "@state/", 7) == 0) {
			char joined[CONFIG_PATH_MAX + 64];

			if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", cfg->state_dir, value + 7) >= k->size)
				return err_set(HSMCA_E_INVALID, "configuration: value of '%s' is too long%s", key, at);
			memcpy(field, joined, strlen(joined) + 1);
			return 0;
		}
		if (strlen(value) >= k->size)
			return err_set(HSMCA_E_INVALID, "configuration: value of '%s' is too long (max %zu)%s",
			    key, k->size - 1, at);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case CT_BOOL:
		if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			v = 1;
		else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
			v = 0;
		else
			return err_set(HSMCA_E_INVALID, "configuration: '%s' must be true or false%s", key, at);
		*(int *)field = (int)v;
		return 0;
	case CT_INT:
	case CT_SIZE:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max)
			return err_set(HSMCA_E_INVALID, "configuration: '%s' must be an integer from %lld to %lld%s",
			    key, k->min, k->max, at);
		if (k->type == CT_INT)
			*(int *)field = (int)v;
		else
			*(size_t *)field = (size_t)v;
		return 0;
	}
	return HSMCA_E_INTERNAL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_read_file(struct config *cfg, const char *path)
{
	struct buf text = { 0 };
	char *line, *save = NULL, *eq;
	int rc, line_no = 0;

	rc = buf_read_file(path, CONFIG_FILE_MAX_BYTES, &text);
	if (rc != 0)
		return rc;
	if (memchr(text.data, '\0', text.len) != NULL) {
		rc = err_set(HSMCA_E_INVALID, "configuration: %s contains a NUL byte", path);
		goto out;
	}
	/* strtok_r skips empty lines, so count lines by hand to name the right one. */
	for (line = (char *)text.data; line != NULL; line = save) {
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		line_no++;
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			rc = err_set(HSMCA_E_INVALID, "configuration: %s line %d: expected 'key = value'", path, line_no);
			goto out;
		}
		*eq = '\0';
		rc = config_set(cfg, trim(line), trim(eq + 1), line_no);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&text);
	return rc;
}

int
config_load(const char *state_dir, struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32], envname[96], *p;
	const char *env, *file = NULL;
	struct stat st;
	size_t i;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (state_dir == NULL)
		state_dir = getenv("HSMCA_STATE");
	if (state_dir == NULL || *state_dir == '\0')
		state_dir = "./var";
	if (strlen(state_dir) >= sizeof(cfg->state_dir) - 64)
		return err_set(HSMCA_E_INVALID, "state directory path is too long");
	memcpy(cfg->state_dir, state_dir, strlen(state_dir) + 1);
	for (i = 0; i < N_KEYS; i++) {
		rc = config_set(cfg, config_keys[i].name, config_keys[i].def, 0);
		if (rc != 0)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/hsmca.conf", cfg->state_dir);
	if (stat(path, &st) == 0)
		file = path;
	else if ((env = getenv("HSMCA_CONFIG")) != NULL && *env != '\0')
		file = env;
	else if (stat("/etc/hsmca/hsmca.conf", &st) == 0)
		file = "/etc/hsmca/hsmca.conf";
	if (file != NULL && (rc = config_read_file(cfg, file)) != 0)
		return rc;
	/* Environment overrides, for tests and containers: HSMCA_<KEY>. */
	for (i = 0; i < N_KEYS; i++) {
		snprintf(envname, sizeof(envname), "HSMCA_%s", config_keys[i].name);
		for (p = envname; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		env = getenv(envname);
		if (env != NULL && (rc = config_set(cfg, config_keys[i].name, env, 0)) != 0)
			return rc;
	}
	return 0;
}
