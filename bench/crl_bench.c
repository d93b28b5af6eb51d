/*
 * crl_bench: time and peak memory of crl_publish for a CA with N revoked certificates.
 *
 *   crl_bench --dir EMPTY_DIR --key SPEC --sizes 10000,100000,1000000
 *
 * Makes a fresh state in DIR (SoftHSM token, database, one root CA with a SPEC key), then for
 * each size fills the CA's certificates up to N revoked rows (the sqlite3 command-line tool, one
 * transaction: bench/ may not include sqlite3.h) and publishes a CRL in a CHILD process, so that
 * getrusage's ru_maxrss is that publication's own peak. Every token use happens in a child too:
 * PKCS#11 state does not survive fork. Prints one line per size:
 *   impl=hsmca key=SPEC entries=N seconds=S base_rss_kb=B peak_rss_kb=P crl_bytes=C
 * base_rss_kb is the child's peak just before crl_publish (libraries, token, database open).
 * Rows use the same serials, dates and reasons as crl_plain, so both CRLs hold the same entries.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "tok.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int
setup_state(const char *dir, const char *spec)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	struct ca_create_req req = { .name = "Bench CA", .key_spec = spec, .pathlen = -1, .actor = "bench" };
	struct db *db = NULL;
	char path[4200];
	int rc;

	if ((rc = tok_softhsm_create(dir, "hsmca")) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/hsmca.db", dir);
	if ((rc = db_open(path, &db)) != 0)
		goto out;
	db_close(db);
	if ((rc = ctx_open(dir, CTX_NEED_TOKEN, &ctx)) != 0 || (rc = ca_create_root(ctx, &req, &ca)) != 0)
		goto out;
out:
	if (rc != 0)
		fprintf(stderr, "crl_bench: set-up: %s\n", err_msg(rc));
	db_ca_free(ca);
	ctx_close(ctx);
	return rc;
}

static int
publish(const char *dir, uint64_t n)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	struct crl_info info;
	double t0, t1;
	long base;
	int rc;

	unsetenv("HSMCA_CONFIG");
	if ((rc = ctx_open(dir, CTX_NEED_TOKEN, &ctx)) != 0 || (rc = ca_get_by_slug(ctx, "bench-ca", &ca)) != 0)
		goto out;
	base = maxrss_kb();
	t0 = now_s();
	rc = crl_publish(ctx, ca, "bench", &info);
	t1 = now_s();
	if (rc != 0)
		goto out;
	if (info.entries != n) {
		fprintf(stderr, "crl_bench: %llu entries, expected %llu\n", (unsigned long long)info.entries,
		    (unsigned long long)n);
		rc = HSMCA_E_INTERNAL;
		goto out;
	}
	printf("impl=hsmca key=%s entries=%llu seconds=%.3f base_rss_kb=%ld peak_rss_kb=%ld crl_bytes=%zu\n",
	    ca->key_spec, (unsigned long long)n, t1 - t0, base, maxrss_kb(), info.der_len);
	fflush(stdout);
out:
	if (rc != 0)
		fprintf(stderr, "crl_bench: publish: %s\n", err_msg(rc));
	db_ca_free(ca);
	ctx_close(ctx);
	return rc;
}

/* Adds revoked rows (from, to] with the serial formula crl_plain uses. */
static int
fill(const char *dir, uint64_t from, uint64_t to)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
	    "sqlite3 '%s/hsmca.db' \"PRAGMA synchronous=OFF; BEGIN; "
	    "WITH RECURSIVE s(i) AS (SELECT %llu UNION ALL SELECT i + 1 FROM s WHERE i < %llu) "
	    "INSERT INTO certificates (ca_id, serial, subject, issuer, not_before, not_after, key_algorithm, "
	    "digest, fingerprint_sha256, source, revoked_at, revocation_reason, der, created_at) "
	    "SELECT (SELECT id FROM cas WHERE slug = 'bench-ca'), "
	    "printf('%%08X%%024X', ((i * 2654435761) %% 4294967296) | 268435456, i), 'CN=bench', 'CN=Bench CA', "
	    "0, 1, 'ec-256', 'sha256', printf('%%064d', i), 'managed', 1700000000000 + i * 1000, i %% 6, x'00', 0 "
	    "FROM s; COMMIT;\"", dir, (unsigned long long)from + 1, (unsigned long long)to);
	return system(cmd) == 0 ? 0 : HSMCA_E_IO;
}

static int
in_child(int (*fn)(const char *, uint64_t), const char *dir, uint64_t n)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return HSMCA_E_INTERNAL;
	if (pid == 0)
		_exit(fn(dir, n) == 0 ? 0 : 1);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return HSMCA_E_INTERNAL;
	return 0;
}

static const char *bench_spec;

static int
setup_child(const char *dir, uint64_t unused)
{
	(void)unused;
	return setup_state(dir, bench_spec);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "sizes", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *sizes = "10000,100000,1000000";
	char *copy, *tok, *save = NULL;
	uint64_t have = 0, n;
	int c;

	bench_spec = "rsa-2048";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'k': bench_spec = optarg; break;
		case 's': sizes = optarg; break;
		default:
			fprintf(stderr, "usage: crl_bench --dir EMPTY_DIR [--key SPEC] [--sizes N,N,...]\n");
			return 2;
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "usage: crl_bench --dir EMPTY_DIR [--key SPEC] [--sizes N,N,...]\n");
		return 2;
	}
	if (in_child(setup_child, dir, 0) != 0)
		return 1;
	if ((copy = strdup(sizes)) == NULL)
		return 1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		n = strtoull(tok, NULL, 10);
		if (n < have) {
			fprintf(stderr, "crl_bench: sizes must grow\n");
			return 1;
		}
		if (n > have && fill(dir, have, n) != 0) {
			fprintf(stderr, "crl_bench: filling %llu rows failed\n", (unsigned long long)n);
			return 1;
		}
		have = n;
		if (in_child(publish, dir, n) != 0)
			return 1;
	}
	free(copy);
	return 0;
}
