/*
 * crl_der.c: PURE streaming DER encoder for a v2 CertificateList (see crl_der.h for the layout).
 *
 * May call: libc, err.h, buf.h. Must never: do I/O, touch the database or the token, or build
 * OpenSSL objects (the point is to stay at the CRL's own size in memory).
 *
 * Structures written (RFC 5280 5.1):
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER (1 = v2), signature AlgorithmIdentifier,
 *       issuer Name, thisUpdate Time, nextUpdate Time,
 *       revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time,
 *           crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *       crlExtensions [0] EXPLICIT Extensions }
 * revokedCertificates is left out entirely when empty (5.1.2.6: "When there are no revoked
 * certificates, the revoked certificates list MUST be absent"), which is also what OpenSSL parses
 * as an empty CRL.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl_der.h"
#include "err.h"

struct crl_der {
	uint8_t *buf;        /* [0, head) headroom, [head, pos) entries (later: tail, algid, sig) */
	size_t cap;
	size_t head;
	size_t pos;
	uint8_t *prefix;     /* version .. nextUpdate, written in front of the entries at the end */
	size_t prefix_len;
	uint8_t *tail;       /* [0] EXPLICIT crlExtensions */
	size_t tail_len;
	uint8_t *sigalg;
	size_t sigalg_len;
	uint64_t n;
	size_t tbs_off;
	size_t tbs_len;
	int state;           /* 0: adding entries, 1: TBS closed, 2: finished */
};

/* OIDs as DER contents (RFC 5280 4.2.1.1, 5.2.3, 5.3.1). */
static const uint8_t oid_aki[] = { 0x55, 0x1d, 0x23 };
static const uint8_t oid_crl_number[] = { 0x55, 0x1d, 0x14 };
static const uint8_t oid_reason[] = { 0x55, 0x1d, 0x15 };

size_t
crl_der_hdr(uint8_t out[CRL_DER_HDR_MAX], uint8_t tag, size_t len)
{
	size_t n = 0, i;
	uint8_t tmp[4];

	out[0] = tag;
	if (len < 0x80) {
		out[1] = (uint8_t)len;
		return 2;
	}
	while (len > 0 && n < sizeof(tmp)) {
		tmp[n++] = (uint8_t)(len & 0xff);
		len >>= 8;
	}
	out[1] = (uint8_t)(0x80 | n);
	for (i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	return 2 + n;
}

/* Appends a TLV to a fixed buffer; the callers size their buffers for the worst case. */
static size_t
put_tlv(uint8_t *out, uint8_t tag, const uint8_t *v, size_t len)
{
	size_t h = crl_der_hdr(out, tag, len);

	if (len > 0)
		memcpy(out + h, v, len);
	return h + len;
}

/* INTEGER contents of an unsigned big-endian magnitude: minimal, with a 0x00 when the top bit is
 * set (X.690 8.3.2). out needs len + 1 bytes. */
static size_t
int_contents(const uint8_t *mag, size_t len, uint8_t *out)
{
	size_t n = 0;

	while (len > 1 && mag[0] == 0) {
		mag++;
		len--;
	}
	if (mag[0] & 0x80)
		out[n++] = 0;
	memcpy(out + n, mag, len);
	return n + len;
}

static size_t
put_uint(uint8_t *out, uint64_t v)
{
	uint8_t mag[8], c[9];
	size_t i;

	for (i = 0; i < 8; i++)
		mag[i] = (uint8_t)(v >> (56 - 8 * i));
	return put_tlv(out, 0x02, c, int_contents(mag, sizeof(mag), c));
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE (omitted), extnValue OCTET
 * STRING }. All extensions we write are non-critical (5.2.1, 5.2.3, 5.3.1). */
static size_t
put_ext(uint8_t *out, const uint8_t *oid, size_t oid_len, const uint8_t *val, size_t val_len)
{
	uint8_t body[CRL_DER_HDR_MAX * 2 + 16 + 128];
	size_t n = 0;

	n += put_tlv(body + n, 0x06, oid, oid_len);
	n += put_tlv(body + n, 0x04, val, val_len);
	return put_tlv(out, 0x30, body, n);
}

static int
time_fields(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	/* 1950-01-01 .. 9999-12-31T23:59:59Z: the range both Time forms can express. */
	if (t < -631152000LL || t > 253402300799LL || gmtime_r(&tt, tm) == NULL)
		return err_set(HSMCA_E_INVALID, "CRL: time %lld outside 1950..9999", (long long)t);
	return 0;
}

static void
put_digits(uint8_t *out, int v, int n)
{
	while (n-- > 0) {
		out[n] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
}

static int
encode_time(int64_t t, int generalized, uint8_t out[17], size_t *len)
{
	struct tm tm;
	uint8_t *p = out + 2;
	int rc, year;

	if ((rc = time_fields(t, &tm)) != 0)
		return rc;
	year = tm.tm_year + 1900;
	if (!generalized && year >= 2050)
		generalized = 1;
	if (generalized) {
		out[0] = 0x18;
		out[1] = 15;
		put_digits(p, year, 4);
		p += 4;
	} else {
		out[0] = 0x17;
		out[1] = 13;
		put_digits(p, year % 100, 2);
		p += 2;
	}
	put_digits(p, tm.tm_mon + 1, 2);
	put_digits(p + 2, tm.tm_mday, 2);
	put_digits(p + 4, tm.tm_hour, 2);
	put_digits(p + 6, tm.tm_min, 2);
	put_digits(p + 8, tm.tm_sec, 2);
	p[10] = 'Z';
	*len = (size_t)(p + 11 - out);
	return 0;
}

int
crl_der_time(int64_t t, uint8_t out[17], size_t *len)
{
	return encode_time(t, 0, out, len);
}

int
crl_der_gentime(int64_t t, uint8_t out[17], size_t *len)
{
	return encode_time(t, 1, out, len);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
crl_der_serial_from_hex(const char *hex, uint8_t out[CRL_DER_SERIAL_MAX + 1], size_t *len)
{
	size_t hl, i, n = 0;
	int hi, lo;

	*len = 0;
	if (hex == NULL)
		return err_set(HSMCA_E_INVALID, "CRL: missing serial");
	while (hex[0] == '0' && hex[1] != '\0')
		hex++;
	hl = strlen(hex);
	if (hl == 0 || (hl + 1) / 2 > CRL_DER_SERIAL_MAX)
		return err_set(HSMCA_E_INVALID, "CRL: serial must be 1 to %d bytes of hex", CRL_DER_SERIAL_MAX);
	i = 0;
	if (hl % 2 == 1) {
		if ((lo = hexval(hex[0])) < 0)
			goto bad;
		out[n++] = (uint8_t)lo;
		i = 1;
	}
	for (; i < hl; i += 2) {
		if ((hi = hexval(hex[i])) < 0 || (lo = hexval(hex[i + 1])) < 0)
			goto bad;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return 0;
bad:
	return err_set(HSMCA_E_INVALID, "CRL: serial is not hex");
}

size_t
crl_der_reserve_hint(uint64_t n, size_t max_serial_bytes, uint64_t n_with_reason)
{
	/* Entry: SEQUENCE header (2; contents stay < 128 bytes) + INTEGER (2 + serial + 1 pad) +
	 * Time (at most 17); with a reason, crlEntryExtensions SEQUENCE { Extension } = 14 bytes. */
	uint64_t per = 2 + 2 + (uint64_t)max_serial_bytes + 1 + 17;
	uint64_t lim = CRL_DER_MAX_BYTES;

	if (max_serial_bytes > CRL_DER_SERIAL_MAX + 1 || n > lim / per || n_with_reason > lim / 14 ||
	    n * per + n_with_reason * 14 > lim)
		return CRL_DER_MAX_BYTES;
	return (size_t)(n * per + n_with_reason * 14);
}

/* Makes room for extra more bytes after pos; grows by half so a missing hint stays linear. */
static int
ensure(struct crl_der *w, size_t extra)
{
	size_t need, ncap;
	uint8_t *nb;

	if (extra > CRL_DER_MAX_BYTES || w->pos > CRL_DER_MAX_BYTES - extra)
		return err_set(HSMCA_E_TOOLARGE, "CRL: larger than %zu bytes", CRL_DER_MAX_BYTES);
	need = w->pos + extra;
	if (need <= w->cap)
		return 0;
	ncap = w->cap + w->cap / 2;
	if (ncap < need)
		ncap = need;
	if (ncap > CRL_DER_MAX_BYTES + 64)
		ncap = CRL_DER_MAX_BYTES + 64;
	if ((nb = realloc(w->buf, ncap)) == NULL)
		return HSMCA_E_NOMEM;
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

static int
append(struct crl_der *w, const uint8_t *v, size_t len)
{
	int rc;

	if ((rc = ensure(w, len)) != 0)
		return rc;
	memcpy(w->buf + w->pos, v, len);
	w->pos += len;
	return 0;
}

/* Checks that v is exactly one TLV with a definite length (a SEQUENCE where want_tag says so),
 * so a corrupt AlgorithmIdentifier or Name cannot make us emit broken DER. */
static int
one_tlv(const uint8_t *v, size_t len, uint8_t want_tag)
{
	size_t l, h, i, nb;

	if (v == NULL || len < 2 || v[0] != want_tag)
		return 0;
	if (v[1] < 0x80) {
		l = v[1];
		h = 2;
	} else {
		nb = v[1] & 0x7f;
		if (nb == 0 || nb > 4 || len < 2 + nb)
			return 0;
		for (l = 0, i = 0; i < nb; i++)
			l = l << 8 | v[2 + i];
		h = 2 + nb;
	}
	return h + l == len;
}

static int
build_prefix(struct crl_der *w, const struct crl_der_params *p)
{
	uint8_t t1[17], t2[17];
	size_t l1, l2, n = 0;
	int rc;

	if ((rc = crl_der_time(p->this_update, t1, &l1)) != 0 ||
	    (rc = crl_der_time(p->next_update, t2, &l2)) != 0)
		return rc;
	w->prefix_len = 3 + p->sigalg_len + p->issuer_len + l1 + l2;
	if ((w->prefix = malloc(w->prefix_len)) == NULL)
		return HSMCA_E_NOMEM;
	/* version v2: INTEGER 1 (5.1.2.1: required because we use extensions). */
	w->prefix[n++] = 0x02;
	w->prefix[n++] = 0x01;
	w->prefix[n++] = 0x01;
	memcpy(w->prefix + n, p->sigalg, p->sigalg_len);
	n += p->sigalg_len;
	memcpy(w->prefix + n, p->issuer, p->issuer_len);
	n += p->issuer_len;
	memcpy(w->prefix + n, t1, l1);
	n += l1;
	memcpy(w->prefix + n, t2, l2);
	return 0;
}

/* crlExtensions: authorityKeyIdentifier (5.2.1, MUST) and cRLNumber (5.2.3, MUST). */
static int
build_tail(struct crl_der *w, const struct crl_der_params *p)
{
	uint8_t aki[CRL_DER_HDR_MAX * 2 + 64], num[16], exts[2 * (CRL_DER_HDR_MAX * 3 + 8 + 96)];
	uint8_t seq[sizeof(exts) + CRL_DER_HDR_MAX];
	size_t la, ln, le = 0, ls;

	/* crl_der_begin checked it already; repeated here so the buffer bounds below are evident. */
	if (p->aki_keyid_len == 0 || p->aki_keyid_len > 64)
		return HSMCA_E_INVALID;
	/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } */
	{
		uint8_t kid[CRL_DER_HDR_MAX + 64];
		size_t lk = put_tlv(kid, 0x80, p->aki_keyid, p->aki_keyid_len);

		la = put_tlv(aki, 0x30, kid, lk);
	}
	ln = put_uint(num, p->crl_number);
	le += put_ext(exts + le, oid_aki, sizeof(oid_aki), aki, la);
	le += put_ext(exts + le, oid_crl_number, sizeof(oid_crl_number), num, ln);
	ls = put_tlv(seq, 0x30, exts, le);
	w->tail_len = crl_der_hdr(exts, 0xa0, ls) + ls;
	if ((w->tail = malloc(w->tail_len)) == NULL)
		return HSMCA_E_NOMEM;
	put_tlv(w->tail, 0xa0, seq, ls);
	return 0;
}

int
crl_der_begin(const struct crl_der_params *p, size_t entries_hint, struct crl_der **out)
{
	struct crl_der *w = NULL;
	int rc = HSMCA_E_INTERNAL;

	*out = NULL;
	if (!one_tlv(p->sigalg, p->sigalg_len, 0x30) || p->sigalg_len > 512)
		return err_set(HSMCA_E_INVALID, "CRL: signature AlgorithmIdentifier is not one DER SEQUENCE");
	if (!one_tlv(p->issuer, p->issuer_len, 0x30) || p->issuer_len > 65536)
		return err_set(HSMCA_E_INVALID, "CRL: issuer Name is not one DER SEQUENCE");
	if (p->aki_keyid == NULL || p->aki_keyid_len == 0 || p->aki_keyid_len > 64)
		return err_set(HSMCA_E_INVALID, "CRL: authority key identifier must be 1 to 64 bytes");
	if (p->next_update <= p->this_update)
		return err_set(HSMCA_E_INVALID, "CRL: nextUpdate must be after thisUpdate");
	if (entries_hint > CRL_DER_MAX_BYTES)
		entries_hint = CRL_DER_MAX_BYTES;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = build_prefix(w, p)) != 0 || (rc = build_tail(w, p)) != 0)
		goto out;
	if ((w->sigalg = malloc(p->sigalg_len)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	memcpy(w->sigalg, p->sigalg, p->sigalg_len);
	w->sigalg_len = p->sigalg_len;
	/* Outer CertificateList header, TBSCertList header, prefix, revokedCertificates header. */
	w->head = 3 * CRL_DER_HDR_MAX + w->prefix_len;
	w->pos = w->head;
	/* Room for the tail, the algorithm and a 4096-bit RSA signature, so finishing needs no
	 * reallocation when the hint was right. */
	if ((rc = ensure(w, entries_hint + w->tail_len + w->sigalg_len + 16 + 520)) != 0)
		goto out;
	*out = w;
	w = NULL;
	rc = 0;
out:
	crl_der_free(w);
	return rc;
}

int
crl_der_add(struct crl_der *w, const uint8_t *serial, size_t serial_len, int64_t revoked_at, int reason)
{
	uint8_t body[96], ent[100], ic[CRL_DER_SERIAL_MAX + 1], t[17], exts[32], e[24];
	size_t n = 0, li, lt, le, lx;
	int rc;

	if (w->state != 0)
		return err_set(HSMCA_E_INTERNAL, "CRL: entry added after the list was closed");
	while (serial_len > 0 && serial[0] == 0) {
		serial++;
		serial_len--;
	}
	if (serial_len == 0 || serial_len > CRL_DER_SERIAL_MAX)
		return err_set(HSMCA_E_INVALID, "CRL: serial must be a positive number of at most %d bytes",
		    CRL_DER_SERIAL_MAX);
	if (reason < 0 || reason > CRL_DER_REASON_MAX || reason == 7)
		return err_set(HSMCA_E_INVALID, "CRL: reason code %d is not a CRLReason", reason);
	if ((rc = crl_der_time(revoked_at, t, &lt)) != 0)
		return rc;
	li = int_contents(serial, serial_len, ic);
	n += put_tlv(body + n, 0x02, ic, li);
	memcpy(body + n, t, lt);
	n += lt;
	if (reason != 0) {
		uint8_t en[3] = { 0x0a, 0x01, (uint8_t)reason };   /* CRLReason ::= ENUMERATED */

		le = put_ext(e, oid_reason, sizeof(oid_reason), en, sizeof(en));
		lx = put_tlv(exts, 0x30, e, le);
		memcpy(body + n, exts, lx);
		n += lx;
	}
	n = put_tlv(ent, 0x30, body, n);
	if ((rc = append(w, ent, n)) != 0)
		return rc;
	w->n++;
	return 0;
}

int
crl_der_add_hex(struct crl_der *w, const char *serial_hex, int64_t revoked_at, int reason)
{
	uint8_t s[CRL_DER_SERIAL_MAX + 1];
	size_t len;
	int rc;

	if ((rc = crl_der_serial_from_hex(serial_hex, s, &len)) != 0)
		return rc;
	return crl_der_add(w, s, len, revoked_at, reason);
}

uint64_t
crl_der_count(const struct crl_der *w)
{
	return w->n;
}

int
crl_der_tbs(struct crl_der *w, const uint8_t **tbs, size_t *tbs_len)
{
	uint8_t h[CRL_DER_HDR_MAX];
	size_t entries = w->pos - w->head, p = w->head, hl;
	int rc;

	*tbs = NULL;
	*tbs_len = 0;
	if (w->state != 0)
		return err_set(HSMCA_E_INTERNAL, "CRL: TBS already closed");
	if ((rc = append(w, w->tail, w->tail_len)) != 0)
		return rc;
	/* Written backwards into the headroom: each header is at most CRL_DER_HDR_MAX bytes, which
	 * the headroom reserved, so p never underflows below one header's room for the outer one. */
	if (entries > 0) {
		hl = crl_der_hdr(h, 0x30, entries);
		p -= hl;
		memcpy(w->buf + p, h, hl);
	}
	p -= w->prefix_len;
	memcpy(w->buf + p, w->prefix, w->prefix_len);
	hl = crl_der_hdr(h, 0x30, w->pos - p);
	p -= hl;
	memcpy(w->buf + p, h, hl);
	w->tbs_off = p;
	w->tbs_len = w->pos - p;
	w->state = 1;
	*tbs = w->buf + w->tbs_off;
	*tbs_len = w->tbs_len;
	return 0;
}

int
crl_der_finish(struct crl_der *w, const uint8_t *sig, size_t sig_len, struct buf *der)
{
	uint8_t h[CRL_DER_HDR_MAX], zero = 0;
	size_t hl, p, total;
	uint8_t *shrunk;
	int rc;

	der->data = NULL;
	der->len = 0;
	if (w->state != 1)
		return err_set(HSMCA_E_INTERNAL, "CRL: finish before the TBS was closed");
	if (sig == NULL || sig_len == 0 || sig_len > 4096)
		return err_set(HSMCA_E_INVALID, "CRL: signature of %zu bytes", sig_len);
	/* signatureValue BIT STRING: one leading byte of unused bits (0), then the signature. */
	hl = crl_der_hdr(h, 0x03, sig_len + 1);
	if ((rc = append(w, w->sigalg, w->sigalg_len)) != 0 || (rc = append(w, h, hl)) != 0 ||
	    (rc = append(w, &zero, 1)) != 0 || (rc = append(w, sig, sig_len)) != 0)
		return rc;
	/* buf.h's contract: one byte after len is allocated (buf_free wipes len + 1 bytes). */
	if ((rc = ensure(w, 1)) != 0)
		return rc;
	w->buf[w->pos] = '\0';
	hl = crl_der_hdr(h, 0x30, w->pos - w->tbs_off);
	p = w->tbs_off - hl;
	memcpy(w->buf + p, h, hl);
	total = w->pos - p;
	memmove(w->buf, w->buf + p, total + 1);
	/* Give back the slack of an over-estimated hint; keeping the old block is fine on failure. */
	if ((shrunk = realloc(w->buf, total + 1)) != NULL)
		w->buf = shrunk;
	der->data = w->buf;
	der->len = total;
	w->buf = NULL;
	w->cap = 0;
	w->pos = 0;
	w->state = 2;
	return 0;
}

void
crl_der_free(struct crl_der *w)
{
	if (w == NULL)
		return;
	free(w->buf);
	free(w->prefix);
	free(w->tail);
	free(w->sigalg);
	free(w);
}
