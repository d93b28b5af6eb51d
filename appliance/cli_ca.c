/*
 * cli_ca.c: `hsmca ca|issue|csr|audit` (see cli_ca.h for the usage).
 *
 * Glue only: parse options, open the context, call ca.h / issue.h / audit.h, print. Input files
 * are read with a size bound; the PKCS#12 password comes from a file and is wiped after use.
 * Every failure prints exactly one line on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "audit.h"
#include "buf.h"
#include "ca.h"
#include "ca_rollover.h"
#include "cli_ca.h"
#include "csr.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "issue.h"
#include "tok.h"
#include "x509_build.h"

#define CLI_FILE_MAX (1024 * 1024)
#define CLI_MAX_SANS 100

static int
fail(int rc)
{
	fprintf(stderr, "hsmca: %s\n", err_msg(rc));
	return 1;
}

static int
usage(const char *text)
{
	fprintf(stderr, "hsmca: usage: %s\n", text);
	return 2;
}

static int
bad_option(char **argv, const char *text)
{
	if (optind > 0 && argv[optind - 1] != NULL)
		fprintf(stderr, "hsmca: unknown or incomplete option '%s'; usage: %s\n", argv[optind - 1], text);
	else
		fprintf(stderr, "hsmca: usage: %s\n", text);
	return 2;
}

static int
parse_days(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > CA_MAX_DAYS)
		return err_set(HSMCA_E_INVALID, "--days must be a number from 1 to %d", CA_MAX_DAYS);
	*out = (int)v;
	return 0;
}

static void
format_ms(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "?");
}

/* ---- ca create-root / create-intermediate ---- */

static int
ca_create_cmd(int argc, char **argv, int is_root)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "name", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' }, { "days", required_argument, NULL, 'd' },
		{ "parent", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 }
	};
	const char *u = is_root ? "hsmca ca create-root --state DIR --name NAME [--key ec-384] [--days 3650]" :
	    "hsmca ca create-intermediate --state DIR --parent SLUG --name NAME [--key rsa-2048] [--days 1825]";
	struct ca_create_req req;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	const char *state = NULL;
	char until[32];
	int c, rc;

	memset(&req, 0, sizeof(req));
	req.pathlen = -1;
	req.actor = "cli";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'n': req.name = optarg; break;
		case 'k': req.key_spec = optarg; break;
		case 'd':
			if ((rc = parse_days(optarg, &req.days)) != 0)
				return fail(rc);
			break;
		case 'p':
			if (is_root)
				return bad_option(argv, u);
			req.parent_slug = optarg;
			break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc || req.name == NULL || (!is_root && req.parent_slug == NULL))
		return usage(u);
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		return fail(rc);
	rc = is_root ? ca_create_root(ctx, &req, &ca) : ca_create_intermediate(ctx, &req, &ca);
	if (rc == 0) {
		format_ms(ca->not_after_ms, until, sizeof(until));
		printf("created %s CA '%s' (slug %s, key %s, valid until %s)\n", ca->kind, ca->name, ca->slug,
		    ca->key_spec, until);
	}
	db_ca_free(ca);
	ctx_close(ctx);
	return rc == 0 ? 0 : fail(rc);
}

/* ---- ca import ---- */

static int
ca_import_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "name", required_argument, NULL, 'n' },
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "pkcs12", required_argument, NULL, 'p' }, { "password-file", required_argument, NULL, 'w' },
		{ "keyref", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 }
	};
	const char *u = "hsmca ca import --state DIR --name NAME --cert FILE "
	    "(--key FILE | --pkcs12 FILE --password-file F | --keyref URI)";
	const char *state = NULL, *cert_file = NULL, *key_file = NULL, *p12_file = NULL, *pw_file = NULL;
	struct buf cert = { 0 }, key = { 0 }, p12 = { 0 }, pw = { 0 };
	struct ca_import_req req;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	int c, rc;

	memset(&req, 0, sizeof(req));
	req.actor = "cli";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'n': req.name = optarg; break;
		case 'c': cert_file = optarg; break;
		case 'k': key_file = optarg; break;
		case 'p': p12_file = optarg; break;
		case 'w': pw_file = optarg; break;
		case 'r': req.keyref = optarg; break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc || req.name == NULL || cert_file == NULL ||
	    (key_file != NULL) + (p12_file != NULL) + (req.keyref != NULL) != 1 || (p12_file != NULL) != (pw_file != NULL))
		return usage(u);
	if ((rc = buf_read_file(cert_file, CLI_FILE_MAX, &cert)) != 0)
		goto out;
	req.cert = cert.data;
	req.cert_len = cert.len;
	if (key_file != NULL) {
		if ((rc = buf_read_file(key_file, CLI_FILE_MAX, &key)) != 0)
			goto out;
		req.key_pem = key.data;
		req.key_pem_len = key.len;
	}
	if (p12_file != NULL) {
		if ((rc = buf_read_file(p12_file, CLI_FILE_MAX, &p12)) != 0 ||
		    (rc = buf_read_file(pw_file, 4096, &pw)) != 0)
			goto out;
		/* One line: the trailing newline an editor or `echo` adds is not part of it. */
		while (pw.len > 0 && (pw.data[pw.len - 1] == '\n' || pw.data[pw.len - 1] == '\r'))
			pw.data[--pw.len] = '\0';
		if (memchr(pw.data, '\0', pw.len) != NULL) {
			rc = err_set(HSMCA_E_INVALID, "%s contains a NUL byte", pw_file);
			goto out;
		}
		req.p12 = p12.data;
		req.p12_len = p12.len;
		req.p12_password = (const char *)pw.data;
	}
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		goto out;
	if ((rc = ca_import(ctx, &req, &ca)) != 0)
		goto out;
	printf("imported CA '%s' (slug %s, key %s)\n", ca->name, ca->slug, ca->key_spec);
out:
	db_ca_free(ca);
	ctx_close(ctx);
	buf_free(&pw);
	buf_free(&p12);
	buf_free(&key);
	buf_free(&cert);
	return rc == 0 ? 0 : fail(rc);
}

/* ---- ca list / show ---- */

static int
ca_list_cmd(int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	const char *u = "hsmca ca list --state DIR", *state = NULL, *parent;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca **cas = NULL;
	size_t i, k, n = 0;
	char until[32];
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return bad_option(argv, u);
		state = optarg;
	}
	if (optind != argc)
		return usage(u);
	if ((rc = ctx_open(state, 0, &ctx)) != 0)
		return fail(rc);
	if ((rc = ca_list(ctx, &cas, &n)) == 0) {
		printf("%-24s %-12s %-9s %-20s %-24s %s\n", "SLUG", "KIND", "KEY", "NOT AFTER", "PARENT", "NAME");
		for (i = 0; i < n; i++) {
			parent = "-";
			for (k = 0; k < n; k++)
				if (cas[k]->id == cas[i]->parent_id)
					parent = cas[k]->slug;
			format_ms(cas[i]->not_after_ms, until, sizeof(until));
			printf("%-24s %-12s %-9s %-20s %-24s %s\n", cas[i]->slug, cas[i]->kind, cas[i]->key_spec, until,
			    parent, cas[i]->name);
		}
	}
	db_ca_list_free(cas, n);
	ctx_close(ctx);
	return rc == 0 ? 0 : fail(rc);
}

static int
ca_show_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "pem", no_argument, NULL, 'p' },
		{ "chain", no_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	const char *u = "hsmca ca show SLUG --state DIR [--pem | --chain]", *state = NULL, *slug;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL, *parent = NULL;
	struct buf *chain = NULL, pem = { 0 };
	size_t i, n = 0;
	char from[32], until[32];
	int c, rc, want_pem = 0, want_chain = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'p': want_pem = 1; break;
		case 'c': want_chain = 1; break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc - 1 || (want_pem && want_chain))
		return usage(u);
	slug = argv[optind];
	if ((rc = ctx_open(state, 0, &ctx)) != 0)
		return fail(rc);
	if ((rc = ca_get_by_slug(ctx, slug, &ca)) != 0)
		goto out;
	if (want_pem || want_chain) {
		if (want_chain) {
			if ((rc = ca_chain(ctx, ca, &chain, &n)) != 0)
				goto out;
			for (i = 0; i < n && rc == 0; i++)
				rc = x509b_der_to_pem(chain[i].data, chain[i].len, &pem);
		} else {
			rc = x509b_der_to_pem(ca->cert_der.data, ca->cert_der.len, &pem);
		}
		if (rc == 0)
			fwrite(pem.data, 1, pem.len, stdout);
		goto out;
	}
	if (ca->parent_id > 0 && (rc = ca_get_by_id(ctx, ca->parent_id, &parent)) != 0)
		goto out;
	format_ms(ca->not_before_ms, from, sizeof(from));
	format_ms(ca->not_after_ms, until, sizeof(until));
	printf("name:        %s\nslug:        %s\nkind:        %s\nstatus:      %s\nsubject:     %s\n"
	    "key:         %s\nkeyref:      %s\nnot before:  %s\nnot after:   %s\nsha256:      %s\nparent:      %s\n",
	    ca->name, ca->slug, ca->kind, ca->status, ca->subject, ca->key_spec, ca->keyref, from, until,
	    ca->fingerprint_sha256, parent != NULL ? parent->slug : "-");
out:
	buf_free(&pem);
	ca_chain_free(chain, n);
	db_ca_free(parent);
	db_ca_free(ca);
	ctx_close(ctx);
	return rc == 0 ? 0 : fail(rc);
}

/* ---- ca rollover / activate-rollover / cancel-rollover ---- */

enum rollover_cmd { ROLLOVER_START, ROLLOVER_ACTIVATE, ROLLOVER_CANCEL };

static int
ca_rollover_cmd(int argc, char **argv, enum rollover_cmd cmd)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "key", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 }
	};
	static const char *const usages[] = {
		"hsmca ca rollover --state DIR [--key rsa-2048] [--days N] SLUG",
		"hsmca ca activate-rollover --state DIR SLUG",
		"hsmca ca cancel-rollover --state DIR SLUG",
	};
	const char *u = usages[cmd], *state = NULL;
	struct ca_rollover_req req;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL, *now = NULL;
	struct db_ca_next *next = NULL;
	char until[32];
	int c, rc;

	memset(&req, 0, sizeof(req));
	req.actor = "cli";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'k':
			if (cmd != ROLLOVER_START)
				return bad_option(argv, u);
			req.key_spec = optarg;
			break;
		case 'd':
			if (cmd != ROLLOVER_START)
				return bad_option(argv, u);
			if ((rc = parse_days(optarg, &req.days)) != 0)
				return fail(rc);
			break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc - 1)
		return usage(u);
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		return fail(rc);
	if ((rc = ca_get_by_slug(ctx, argv[optind], &ca)) != 0)
		goto out;
	switch (cmd) {
	case ROLLOVER_START:
		if ((rc = ca_rollover_start(ctx, ca, &req, &next)) == 0) {
			format_ms(next->not_after_ms, until, sizeof(until));
			printf("next certificate of CA '%s': serial %s, key %s, valid until %s, sha256 %s\n", ca->slug,
			    next->serial, next->key_spec, until, next->fingerprint_sha256);
		}
		break;
	case ROLLOVER_ACTIVATE:
		if ((rc = ca_rollover_activate(ctx, ca, "cli", NULL, &now)) == 0)
			printf("CA '%s' now signs with its new key (sha256 %s)\n", now->slug, now->fingerprint_sha256);
		break;
	case ROLLOVER_CANCEL:
		if ((rc = ca_rollover_cancel(ctx, ca, "cli", NULL)) == 0)
			printf("rollover of CA '%s' cancelled\n", ca->slug);
		break;
	}
out:
	db_ca_next_free(next);
	db_ca_free(now);
	db_ca_free(ca);
	ctx_close(ctx);
	return rc == 0 ? 0 : fail(rc);
}

int
cli_ca(int argc, char **argv)
{
	const char *u = "hsmca ca (create-root | create-intermediate | import | list | show | rollover | "
	    "activate-rollover | cancel-rollover) [options]";

	err_clear();
	if (argc < 2)
		return usage(u);
	if (strcmp(argv[1], "create-root") == 0)
		return ca_create_cmd(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "create-intermediate") == 0)
		return ca_create_cmd(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "import") == 0)
		return ca_import_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return ca_list_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return ca_show_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "rollover") == 0)
		return ca_rollover_cmd(argc - 1, argv + 1, ROLLOVER_START);
	if (strcmp(argv[1], "activate-rollover") == 0)
		return ca_rollover_cmd(argc - 1, argv + 1, ROLLOVER_ACTIVATE);
	if (strcmp(argv[1], "cancel-rollover") == 0)
		return ca_rollover_cmd(argc - 1, argv + 1, ROLLOVER_CANCEL);
	fprintf(stderr, "hsmca: unknown ca command '%s'; usage: %s\n", argv[1], u);
	return 2;
}

/* ---- issue ---- */

int
cli_issue(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "ca", required_argument, NULL, 'a' },
		{ "csr", required_argument, NULL, 'c' }, { "profile", required_argument, NULL, 'p' },
		{ "days", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 }
	};
	const char *u = "hsmca issue --state DIR --ca SLUG --csr FILE [--profile server] [--days N]";
	const char *state = NULL, *csr_file = NULL, *profile = "server";
	struct buf file = { 0 }, der = { 0 }, pem = { 0 };
	struct issue_result res;
	struct issue_req req;
	struct hsmca_ctx *ctx = NULL;
	int c, rc;

	err_clear();
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.requested_by = "cli";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'a': req.ca_slug = optarg; break;
		case 'c': csr_file = optarg; break;
		case 'p': profile = optarg; break;
		case 'd':
			if ((rc = parse_days(optarg, &req.days)) != 0)
				return fail(rc);
			break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc || req.ca_slug == NULL || csr_file == NULL)
		return usage(u);
	if ((rc = issue_profile_parse(profile, &req.profile)) != 0)
		return fail(rc);
	if ((rc = buf_read_file(csr_file, CLI_FILE_MAX, &file)) != 0)
		goto out;
	if ((rc = csr_to_der(file.data, file.len, &der)) != 0)
		goto out;
	req.csr_der = der.data;
	req.csr_len = der.len;
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		goto out;
	if ((rc = issue_from_csr(ctx, &req, &res)) != 0)
		goto out;
	if ((rc = x509b_der_to_pem(res.cert_der.data, res.cert_der.len, &pem)) != 0)
		goto out;
	fwrite(pem.data, 1, pem.len, stdout);
out:
	buf_free(&pem);
	issue_result_free(&res);
	ctx_close(ctx);
	buf_free(&der);
	buf_free(&file);
	return rc == 0 ? 0 : fail(rc);
}

/* ---- csr ---- */

static int
csr_label_unused(struct tok *tok, const char *label)
{
	struct tok_key_info *keys = NULL;
	size_t i, n = 0;
	int rc;

	if ((rc = tok_list_keys(tok, &keys, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (keys[i].label != NULL && strcmp(keys[i].label, label) == 0) {
			rc = err_set(HSMCA_E_EXISTS, "a key labelled '%s' is already on the token", label);
			break;
		}
	tok_key_list_free(keys, n);
	return rc;
}

static int
csr_pem(const struct buf *der, struct buf *pem)
{
	BIO *bio;
	BUF_MEM *mem;
	int rc = HSMCA_E_NOMEM;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return HSMCA_E_NOMEM;
	if (PEM_write_bio(bio, "CERTIFICATE REQUEST", "", der->data, (long)der->len) > 0) {
		BIO_get_mem_ptr(bio, &mem);
		rc = buf_set(pem, mem->data, mem->length);
	}
	BIO_free(bio);
	return rc;
}

int
cli_csr(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "key-label", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' }, { "subject", required_argument, NULL, 'j' },
		{ "san", required_argument, NULL, 'a' }, { NULL, 0, NULL, 0 }
	};
	const char *u = "hsmca csr --state DIR --key-label L --key ec-256 --subject \"CN=...\" [--san DNS:x --san IP:y]";
	const char *state = NULL, *label = NULL, *spec_name = "ec-256", *subject = NULL;
	const char *sans[CLI_MAX_SANS];
	struct buf der = { 0 }, pem = { 0 };
	struct hsmca_ctx *ctx = NULL;
	struct csr *parsed = NULL;
	enum tok_key_spec spec;
	char *keyref = NULL, *details = NULL;
	size_t n_sans = 0;
	int c, rc;

	err_clear();
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'l': label = optarg; break;
		case 'k': spec_name = optarg; break;
		case 'j': subject = optarg; break;
		case 'a':
			if (n_sans == CLI_MAX_SANS) {
				fprintf(stderr, "hsmca: at most %d --san options\n", CLI_MAX_SANS);
				return 2;
			}
			sans[n_sans++] = optarg;
			break;
		default: return bad_option(argv, u);
		}
	}
	if (optind != argc || label == NULL || subject == NULL || *label == '\0')
		return usage(u);
	if (strlen(label) > 64)
		return fail(err_set(HSMCA_E_INVALID, "--key-label is longer than 64 characters"));
	if ((rc = tok_key_spec_parse(spec_name, &spec)) != 0)
		return fail(rc);
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		return fail(rc);
	if ((rc = csr_label_unused(ctx->tok, label)) != 0)
		goto out;
	if ((rc = tok_generate_key(ctx->tok, spec, label, 0, &keyref)) != 0)
		goto out;
	if ((rc = tok_make_csr(ctx->tok, keyref, subject, sans, n_sans, &der)) != 0)
		goto out;
	/* Our own parser checks what the token made: a malformed subject or SAN shows here. */
	if ((rc = csr_parse(der.data, der.len, &parsed)) != 0)
		goto out;
	{
		json_t *j = json_pack("{s:s, s:s, s:b}", "label", label, "key_spec", tok_key_spec_name(spec), "csr", 1);

		details = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(j);
		if (details == NULL) {
			rc = err_set(HSMCA_E_INVALID, "--key-label must be UTF-8");
			goto out;
		}
	}
	if ((rc = db_begin(ctx->db)) != 0 ||
	    (rc = audit_write(ctx->db, "cli", NULL, "key.generate.success", keyref, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0)
		goto out;
	if ((rc = csr_pem(&der, &pem)) != 0)
		goto out;
	fwrite(pem.data, 1, pem.len, stdout);
out:
	if (rc != 0 && keyref != NULL && ctx != NULL) {
		char saved[512];

		db_rollback(ctx->db);
		snprintf(saved, sizeof(saved), "%s", err_msg(rc));
		tok_delete_key(ctx->tok, keyref);
		err_set(rc, "%s", saved);
	}
	free(details);
	csr_free(parsed);
	free(keyref);
	buf_free(&pem);
	buf_free(&der);
	ctx_close(ctx);
	return rc == 0 ? 0 : fail(rc);
}

/* ---- audit verify ---- */

int
cli_audit(int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	const char *u = "hsmca audit verify --state DIR", *state = NULL;
	struct hsmca_ctx *ctx = NULL;
	int64_t bad = 0;
	int c, rc;

	err_clear();
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return usage(u);
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return bad_option(argv, u);
		state = optarg;
	}
	if (optind != argc)
		return usage(u);
	if ((rc = ctx_open(state, 0, &ctx)) != 0)
		return fail(rc);
	rc = audit_verify(ctx->db, &bad);
	ctx_close(ctx);
	if (rc != 0)
		return fail(rc);
	if (bad != 0) {
		fprintf(stderr, "hsmca: audit chain broken at row %lld (edited, inserted or deleted rows)\n", (long long)bad);
		return 1;
	}
	printf("OK\n");
	return 0;
}
