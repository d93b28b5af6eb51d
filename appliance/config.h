/*
 * config.h: the appliance configuration, read once at start.
 *
 * Sources, later ones winning: built-in defaults; STATE/hsmca.conf if present (else the file
 * named by HSMCA_CONFIG or /etc/hsmca/hsmca.conf when it exists); environment variables
 * HSMCA_<KEY in upper case> (for tests). `key = value` lines, '#' comments. Every key is checked
 * at load; an unknown key or a bad value is an error naming the key and the line.
 */
#ifndef HSMCA_CONFIG_H
#define HSMCA_CONFIG_H

#include <stddef.h>

#define CONFIG_PATH_MAX 4096

struct config {
	char state_dir[CONFIG_PATH_MAX];      /* state = ./var */
	char db_path[CONFIG_PATH_MAX];        /* database = STATE/hsmca.db */
	char pkcs11_module[CONFIG_PATH_MAX];  /* pkcs11_module = /usr/lib/softhsm/libsofthsm2.so */
	char token_label[64];                 /* token_label = hsmca */
	char pin_file[CONFIG_PATH_MAX];       /* pin_file = STATE/pin */
	char pin_env[64];                     /* pin_env = HSMCA_PIN (used when the file is absent) */
	int token_sessions;                   /* token_sessions = 4 */
	char public_base_url[512];            /* public_base_url = http://localhost:8080 */
	char http_listen[128];                /* http_listen = 0.0.0.0:8080 */
	char https_listen[128];               /* https_listen = 0.0.0.0:8443 */
	char tls_names[1024];                 /* tls_names = localhost,127.0.0.1 (DNS names and IPs) */
	int worker_threads;                   /* worker_threads = 4 */
	size_t max_json_body_bytes;           /* max_json_body_bytes = 1048576 */
	size_t max_scep_body_bytes;           /* max_scep_body_bytes = 262144 */
	int max_connections;                  /* max_connections = 512 */
	int max_connections_per_ip;           /* max_connections_per_ip = 64 */
	int connection_timeout_s;             /* connection_timeout_s = 30 */
	int login_max_failures;               /* login_max_failures = 5 */
	int session_ttl_minutes;              /* session_ttl_minutes = 480 */
	int totp_required;                    /* totp_required = 0 */
	int crl_validity_days;                /* crl_validity_days = 7 */
	int crl_batch_seconds;                /* crl_batch_seconds = 2 */
	int default_leaf_days;                /* default_leaf_days = 365 */
};

/* Fills cfg for the given state directory (NULL: HSMCA_STATE, else "./var"). */
int config_load(const char *state_dir, struct config *cfg);

/* Applies one `key = value` setting; used by config_load and by tests. line_no 0: not from a file. */
int config_set(struct config *cfg, const char *key, const char *value, int line_no);

#endif
