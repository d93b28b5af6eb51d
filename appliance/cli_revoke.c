/*
 * cli_revoke.c: `hsmca revoke` and `hsmca crl` (see cli_revoke.h). Glue only: options, context,
 * revoke.h / crl.h, output. The code is shown on stderr and read from stdin; it is wiped after.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "crl.h"
#include "ctx.h"
#include "db_certs.h"
#include "db_crls.h"
#include "err.h"
#include "revoke.h"
#include "cli_revoke.h"

#define REVOKE_USAGE "hsmca revoke --state DIR --serial HEX [--reason keyCompromise|cACompromise|" \
	"affiliationChanged|superseded|cessationOfOperation|unspecified]"
#define CRL_USAGE "hsmca crl --state DIR --ca SLUG [--out FILE]"

static int
fail(int rc)
{
	fprintf(stderr, "hsmca: %s\n", err_msg(rc));
	return 1;
}

static void
format_ms(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "?");
}

/* "01:ab:CD" or "0x01abcd" -> "01ABCD" as stored; HSMCA_E_INVALID for anything but hex. */
static int
normalise_serial(const char *in, char *out, size_t outsz)
{
	size_t k = 0;

	if (strncmp(in, "0x", 2) == 0 || strncmp(in, "0X", 2) == 0)
		in += 2;
	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || k + 1 >= outsz)
			return err_set(HSMCA_E_INVALID, "--serial must be hexadecimal (at most 40 digits)");
		out[k++] = (char)toupper((unsigned char)*in);
	}
	out[k] = '\0';
	return k == 0 ? err_set(HSMCA_E_INVALID, "--serial is empty") : 0;
}

static void
print_published(const struct hsmca_ctx *ctx, const char *slug, const struct crl_info *info)
{
	char next[32];
	const char *base = ctx->cfg.public_base_url;
	size_t bl = strlen(base);

	format_ms(info->next_update_ms, next, sizeof(next));
	printf("CRL #%lld of CA %s published: %llu entries, %zu bytes, next update %s\n",
	    (long long)info->number, slug, (unsigned long long)info->entries, info->der_len, next);
	printf("served at %.*s/crl/%s.crl\n", (int)(bl > 0 && base[bl - 1] == '/' ? bl - 1 : bl), base, slug);
}

int
cli_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *serial_arg = NULL, *reason_arg = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct db_cert *cert = NULL;
	struct db_ca *ca = NULL;
	char serial[48], code[REVOKE_CODE_DIGITS + 1], line[64];
	int64_t expires, crl_number = 0;
	int c, rc, reason, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'n': serial_arg = optarg; break;
		case 'r': reason_arg = optarg; break;
		default:
			fprintf(stderr, "hsmca: usage: %s\n", REVOKE_USAGE);
			return 2;
		}
	}
	if (serial_arg == NULL || optind != argc) {
		fprintf(stderr, "hsmca: usage: %s\n", REVOKE_USAGE);
		return 2;
	}
	err_clear();
	memset(code, 0, sizeof(code));
	memset(line, 0, sizeof(line));
	if ((rc = revoke_reason_parse(reason_arg, &reason)) != 0 ||
	    (rc = normalise_serial(serial_arg, serial, sizeof(serial))) != 0 ||
	    (rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0 ||
	    (rc = db_certs_get_by_serial(ctx->db, serial, &cert)) != 0 ||
	    (rc = revoke_request(ctx, cert->id, 0, "cli", NULL, code, &expires)) != 0) {
		ret = fail(rc);
		goto out;
	}
	if (db_cas_get_by_id(ctx->db, cert->ca_id, &ca) != 0)
		err_clear();
	fprintf(stderr, "About to revoke certificate %s\n  subject %s\n  issued by CA %s\n  reason %s\n"
	    "Revocation is permanent.\nConfirmation code: %s (valid 5 minutes)\n", cert->serial, cert->subject,
	    ca != NULL ? ca->slug : "?", revoke_reason_name(reason), code);
	OPENSSL_cleanse(code, sizeof(code));
	/* One prompt per run: a wrong code ends the command (run it again for a fresh code), so a
	 * script cannot loop over guesses faster than codes are made. */
	fprintf(stderr, "Type the code to confirm: ");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "\nhsmca: no code given; nothing was revoked\n");
		goto out;
	}
	line[strcspn(line, "\r\n")] = '\0';
	rc = revoke_confirm(ctx, cert->id, 0, "cli", NULL, line, reason, &crl_number);
	OPENSSL_cleanse(line, sizeof(line));
	if (rc != 0) {
		fprintf(stderr, "hsmca: %s; nothing was revoked\n", err_msg(rc));
		goto out;
	}
	printf("revoked %s (%s)\n", cert->serial, revoke_reason_name(reason));
	if (crl_number != 0 && ca != NULL) {
		struct crl_info info;
		struct db_crl *latest = NULL;

		memset(&info, 0, sizeof(info));
		if (db_crls_latest(ctx->db, ca->id, 0, &latest) == 0) {
			info.number = latest->number;
			info.next_update_ms = latest->next_update_ms;
			info.entries = (uint64_t)latest->entry_count;
			db_crl_free(latest);
			print_published(ctx, ca->slug, &info);
		}
	} else {
		printf("the CRL could not be published now; run `hsmca crl --ca %s` (it stays due)\n",
		    ca != NULL ? ca->slug : "SLUG");
	}
	ret = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	db_ca_free(ca);
	db_cert_free(cert);
	ctx_close(ctx);
	return ret;
}

int
cli_crl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *slug = NULL, *out_path = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct db_crl *crl = NULL;
	struct crl_info info;
	int c, rc, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'c': slug = optarg; break;
		case 'o': out_path = optarg; break;
		default:
			fprintf(stderr, "hsmca: usage: %s\n", CRL_USAGE);
			return 2;
		}
	}
	if (slug == NULL || optind != argc) {
		fprintf(stderr, "hsmca: usage: %s\n", CRL_USAGE);
		return 2;
	}
	err_clear();
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0 ||
	    (rc = crl_publish_slug(ctx, slug, "cli", &info)) != 0) {
		ret = fail(rc);
		goto out;
	}
	if (out_path != NULL) {
		if ((rc = crl_latest(ctx, slug, &crl)) != 0 ||
		    (rc = buf_write_file(out_path, crl->der.data, crl->der.len, 0644)) != 0) {
			ret = fail(rc);
			goto out;
		}
	}
	print_published(ctx, slug, &info);
	if (out_path != NULL)
		printf("written to %s\n", out_path);
	ret = 0;
out:
	db_crl_free(crl);
	ctx_close(ctx);
	return ret;
}
