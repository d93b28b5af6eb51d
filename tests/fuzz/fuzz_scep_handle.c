/*
 * fuzz_scep_handle.c: libFuzzer target for the whole SCEP exchange, scep_handle() (appliance/
 * scep.h), against a real SoftHSM token and SQLite store made once in LLVMFuzzerInitialize in a
 * temporary state folder (removed at exit).
 *
 * The store holds the shared fixture CA (HSMCA_FIXTURES/scep/ca.pem + ca.key, imported onto the
 * token: the captured client messages are enveloped to it, so they decrypt and reach
 * authentication and issuance), with its RA, a reusable challenge entry "fuzz" whose secret is
 * the fixtures' challengePassword "fixture-secret", and a pending rollover (GetNextCACert and the
 * caps flag). Without HSMCA_FIXTURES a root CA made here stands in, and messages stop at the
 * envelope.
 *
 * Input: one mode byte, then the payload.
 *   bits 0-2  operation: PKIOperation, GetCACaps, GetCACert, GetNextCACert, "" (missing),
 *             an unknown name, PKIOperation again, or the payload's first line (then the rest)
 *   bit 3     POST (payload is the body) or GET (payload is message=)
 *   bit 4     GET: base64-encode the payload first (else it is message= as it came)
 *   bit 5     HTTP Basic credentials "fuzz" with the right secret; bit 6 with a wrong one
 *   bit 7     an unknown CA slug
 * Seeds: tests/fuzz/corpus/scep_handle: the captured fixture messages behind 0x08 (POST
 * PKIOperation) and 0x10 (GET, base64), and a few one-byte operation seeds.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "buf.h"
#include "ca.h"
#include "ca_rollover.h"
#include "ctx.h"
#include "db.h"
#include "db_scep.h"
#include "err.h"
#include "log.h"
#include "ra.h"
#include "scep.h"
#include "scep_auth.h"
#include "tok.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "fixture-secret"
#define FUZZ_OP_MAX 64

static char state_dir[512];
static struct hsmca_ctx *ctx;
static char ca_slug[64];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	ctx_close(ctx);
	ctx = NULL;
	if (state_dir[0] != '\0')
		nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_scep_handle: %s: %s\n", what, err_msg(rc));
	cleanup();
	exit(1);
}

/* The fixture CA, imported with its key onto the token; 0 when there are no fixtures. */
static int
import_fixture_ca(struct db_ca **out)
{
	const char *dir = getenv("HSMCA_FIXTURES");
	struct ca_import_req req;
	struct buf cert = { 0 }, key = { 0 };
	char path[1024];
	int rc;

	*out = NULL;
	if (dir == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	snprintf(path, sizeof(path), "%s/scep/ca.pem", dir);
	if ((rc = buf_read_file(path, 1 << 16, &cert)) != 0)
		die(path, rc);
	snprintf(path, sizeof(path), "%s/scep/ca.key", dir);
	if ((rc = buf_read_file(path, 1 << 16, &key)) != 0)
		die(path, rc);
	req.name = "Fuzz Fixture CA";
	req.cert = cert.data;
	req.cert_len = cert.len;
	req.key_pem = key.data;
	req.key_pem_len = key.len;
	req.actor = "fuzz";
	rc = ca_import(ctx, &req, out);
	buf_free(&key);
	buf_free(&cert);
	return rc;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct ca_create_req root = { .name = "Fuzz Root", .key_spec = "rsa-2048", .pathlen = -1, .actor = "fuzz" };
	struct ca_rollover_req roll = { .days = 30, .actor = "fuzz" };
	struct db_ca *ca = NULL;
	struct ra_info ra = { 0 };
	struct db *db = NULL;
	char path[600], hash[SCEP_AUTH_HASH_MAX];
	int64_t auth_id;
	int rc;

	(void)argc;
	(void)argv;
	log_set_level(LOGL_ERROR);   /* one line per exchange would drown libFuzzer's output */
	snprintf(state_dir, sizeof(state_dir), "%s/fuzz_scep_handle.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(state_dir) == NULL) {
		state_dir[0] = '\0';
		die("mkdtemp", HSMCA_E_IO);
	}
	atexit(cleanup);
	unsetenv("HSMCA_CONFIG");
	unsetenv("HSMCA_STATE");
	if ((rc = tok_softhsm_create(state_dir, "hsmca")) != 0)
		die("tok_softhsm_create", rc);
	snprintf(path, sizeof(path), "%s/hsmca.db", state_dir);
	if ((rc = db_open(path, &db)) != 0)
		die("db_open", rc);
	db_close(db);
	if ((rc = ctx_open(state_dir, CTX_NEED_TOKEN, &ctx)) != 0)
		die("ctx_open", rc);
	/* A throw-away store: an fsync per commit would only slow the fuzzer down. */
	if (sqlite3_exec(db_handle(ctx->db), "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
		die("PRAGMA synchronous", HSMCA_E_DB);
	if ((rc = import_fixture_ca(&ca)) != 0)
		die("import the fixture CA", rc);
	if (ca == NULL && (rc = ca_create_root(ctx, &root, &ca)) != 0)
		die("ca_create_root", rc);
	snprintf(ca_slug, sizeof(ca_slug), "%s", ca->slug);
	if ((rc = ra_ensure(ctx, ca, &ra)) != 0)
		die("ra_ensure", rc);
	ra_info_clear(&ra);
	if ((rc = scep_auth_hash((const uint8_t *)FUZZ_SECRET, strlen(FUZZ_SECRET), hash)) != 0 ||
	    (rc = db_scep_auth_insert(ctx->db, "fuzz", ca->id, hash, 1, 0, "fuzz", &auth_id)) != 0)
		die("SCEP authentication entry", rc);
	if ((rc = ca_rollover_start(ctx, ca, &roll, NULL)) != 0)
		die("ca_rollover_start", rc);
	db_ca_free(ca);
	err_clear();
	return 0;
}

/* Standard base64 of data, NUL-terminated; NULL when out of memory. */
static char *
b64(const uint8_t *data, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s != NULL)
		EVP_EncodeBlock((unsigned char *)s, data, (int)len);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ops[] = { "PKIOperation", "GetCACaps", "GetCACert", "GetNextCACert", "",
		"GetCRL", "PKIOperation" };
	struct scep_request r;
	struct scep_response out;
	char op[FUZZ_OP_MAX + 1], *message = NULL;
	const uint8_t *payload;
	size_t len, i;
	uint8_t mode;

	if (size == 0)
		return 0;
	mode = data[0];
	payload = data + 1;
	len = size - 1;
	memset(&r, 0, sizeof(r));
	if ((mode & 7) == 7) {
		/* The operation name from the payload's first line (at most FUZZ_OP_MAX bytes). */
		for (i = 0; i < len && i < FUZZ_OP_MAX && payload[i] != '\n'; i++)
			op[i] = payload[i] != '\0' ? (char)payload[i] : '?';
		op[i] = '\0';
		if (i < len && payload[i] == '\n')
			i++;
		payload += i;
		len -= i;
		r.operation = op;
	} else {
		r.operation = ops[mode & 7];
	}
	r.ca_slug = (mode & 0x80) ? "no-such-ca" : ca_slug;
	r.peer = "127.0.0.1";
	if (mode & 0x08) {
		r.is_post = 1;
		r.body = payload;
		r.body_len = len;
	} else {
		/* message= as the HTTP layer hands it over: a NUL-terminated string. */
		message = (mode & 0x10) ? b64(payload, len) : strndup((const char *)payload, len);
		if (message == NULL)
			return 0;
		r.message = message;
	}
	if (mode & 0x60) {
		r.basic_user = "fuzz";
		r.basic_secret = (const uint8_t *)((mode & 0x20) ? FUZZ_SECRET : "not-the-secret");
		r.basic_secret_len = strlen((const char *)r.basic_secret);
	}
	if (scep_handle(ctx, &r, &out) == 0 && (out.status < 200 || out.status > 599 || out.content_type == NULL))
		abort();   /* every answered exchange has a status and a content type */
	scep_response_clear(&out);
	free(message);
	err_clear();
	ERR_clear_error();
	return 0;
}
