/*
 * crl_plain: the same CRL as crl_bench, built and signed with plain OpenSSL (X509_CRL API) and a
 * software key of the same type, for a same-run comparison.
 *
 *   crl_plain --key rsa-2048|rsa-3072|rsa-4096|ec-256|ec-384 --entries N
 *
 * Times building the X509_CRL (N X509_REVOKED with serial, date, reasonCode), signing and DER
 * encoding, and prints:
 *   impl=openssl key=SPEC entries=N seconds=S base_rss_kb=B peak_rss_kb=P crl_bytes=C
 * Run one size per process so ru_maxrss is that size's own peak.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

static EVP_PKEY *
keygen(const char *spec, const EVP_MD **md)
{
	*md = EVP_sha256();
	if (strcmp(spec, "rsa-2048") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(spec, "rsa-3072") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (strcmp(spec, "rsa-4096") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	if (strcmp(spec, "ec-256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(spec, "ec-384") == 0) {
		*md = EVP_sha384();
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "entries", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = "rsa-2048";
	unsigned long long n = 10000, i;
	const EVP_MD *md;
	EVP_PKEY *key;
	X509_NAME *name;
	X509_CRL *crl;
	ASN1_TIME *t;
	ASN1_INTEGER *num;
	unsigned char *der = NULL;
	double t0, t1;
	long base;
	int c, len;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': spec = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: crl_plain --key SPEC --entries N\n");
			return 2;
		}
	}
	if ((key = keygen(spec, &md)) == NULL) {
		fprintf(stderr, "crl_plain: unknown key spec %s\n", spec);
		return 2;
	}
	name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Bench CA", -1, -1, 0);
	base = maxrss_kb();
	t0 = now_s();
	crl = X509_CRL_new();
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, name);
	t = ASN1_TIME_set(NULL, time(NULL));
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_adj(t, time(NULL), 7, 0);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_TIME_free(t);
	for (i = 1; i <= n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		char hex[40];
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial;
		ASN1_TIME *rt;

		/* Same formula as crl_bench's rows. */
		snprintf(hex, sizeof(hex), "%08llX%024llX", ((i * 2654435761ULL) % 4294967296ULL) | 268435456ULL, i);
		BN_hex2bn(&bn, hex);
		serial = BN_to_ASN1_INTEGER(bn, NULL);
		X509_REVOKED_set_serialNumber(r, serial);
		rt = ASN1_TIME_set(NULL, (time_t)(1700000000 + i));
		X509_REVOKED_set_revocationDate(r, rt);
		if (i % 6 != 0) {
			ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

			ASN1_ENUMERATED_set(e, (long)(i % 6));
			X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
			ASN1_ENUMERATED_free(e);
		}
		X509_CRL_add0_revoked(crl, r);
		ASN1_TIME_free(rt);
		ASN1_INTEGER_free(serial);
		BN_free(bn);
	}
	num = ASN1_INTEGER_new();
	ASN1_INTEGER_set(num, 1);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	ASN1_INTEGER_free(num);
	if (X509_CRL_sign(crl, key, md) <= 0 || (len = i2d_X509_CRL(crl, &der)) <= 0) {
		fprintf(stderr, "crl_plain: signing failed\n");
		return 1;
	}
	t1 = now_s();
	printf("impl=openssl key=%s entries=%llu seconds=%.3f base_rss_kb=%ld peak_rss_kb=%ld crl_bytes=%d\n",
	    spec, n, t1 - t0, base, maxrss_kb(), len);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return 0;
}
