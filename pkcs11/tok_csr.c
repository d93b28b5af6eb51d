/*
 * tok_csr.c: PKCS#10 requests signed by a token key (HSM-based CSR generation).
 *
 * May call: tok_public_pkey() and tok_pkey_get_spec(), OpenSSL's X509_REQ code. The subject
 * text is parsed here (not with OpenSSL's parse_name, which is an app function): "/CN=x/O=y" or
 * "CN=x,O=y", a backslash escapes the next character, RDNs are encoded in the order written.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tok_internal.h"

#define TOK_SUBJECT_MAX 4096
#define TOK_SANS_MAX    256
#define TOK_SAN_MAX     1024

/* One "TYPE=value" into name. */
static int
add_rdn(X509_NAME *name, char *attr)
{
	char *eq = strchr(attr, '=');

	if (eq == NULL || eq == attr || eq[1] == '\0')
		return err_set(HSMCA_E_INVALID, "subject: \"%s\" is not TYPE=value", attr);
	*eq = '\0';
	if (OBJ_txt2nid(attr) == NID_undef) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "subject: unknown attribute type %s", attr);
	}
	if (!X509_NAME_add_entry_by_txt(name, attr, MBSTRING_UTF8, (const unsigned char *)eq + 1, -1, -1, 0)) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "subject: bad value for %s", attr);
	}
	return 0;
}

/* Parses subject into a fresh X509_NAME (an empty subject is allowed: SANs may carry it). */
static int
parse_subject(const char *subject, X509_NAME **out)
{
	X509_NAME *name = NULL;
	char *buf = NULL;
	size_t n, i, o = 0;
	char sep;
	int rc = HSMCA_E_INVALID;

	*out = NULL;
	if (subject == NULL)
		subject = "";
	if ((n = strlen(subject)) > TOK_SUBJECT_MAX)
		return err_set(HSMCA_E_INVALID, "subject longer than %d bytes", TOK_SUBJECT_MAX);
	if ((name = X509_NAME_new()) == NULL || (buf = malloc(n + 1)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	sep = subject[0] == '/' ? '/' : ',';
	i = sep == '/' ? 1 : 0;
	for (; i <= n; i++) {
		if (subject[i] == '\\' && i + 1 < n) {
			buf[o++] = subject[++i];
			continue;
		}
		if (subject[i] != sep && subject[i] != '\0') {
			buf[o++] = subject[i];
			continue;
		}
		buf[o] = '\0';
		/* "CN=x, O=y": the space after a comma is not part of the type. */
		if (sep == ',') {
			char *b = buf;

			while (*b == ' ')
				b++;
			memmove(buf, b, strlen(b) + 1);
		}
		if (buf[0] != '\0' && (rc = add_rdn(name, buf)) != 0)
			goto out;
		if (buf[0] == '\0' && subject[i] == sep && i + 1 < n) {
			rc = err_set(HSMCA_E_INVALID, "subject: empty RDN");
			goto out;
		}
		o = 0;
	}
	*out = name;
	name = NULL;
	rc = 0;
out:
	free(buf);
	X509_NAME_free(name);
	return rc;
}

static int
add_san(GENERAL_NAMES *gens, const char *san)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	const char *v;
	int type;

	if (san == NULL || strlen(san) > TOK_SAN_MAX)
		return err_set(HSMCA_E_INVALID, "SAN missing or longer than %d bytes", TOK_SAN_MAX);
	if (strncmp(san, "DNS:", 4) == 0) {
		type = GEN_DNS;
		v = san + 4;
	} else if (strncmp(san, "IP:", 3) == 0) {
		type = GEN_IPADD;
		v = san + 3;
	} else if (strncmp(san, "email:", 6) == 0) {
		type = GEN_EMAIL;
		v = san + 6;
	} else if (strncmp(san, "URI:", 4) == 0) {
		type = GEN_URI;
		v = san + 4;
	} else {
		return err_set(HSMCA_E_INVALID, "SAN \"%s\": use DNS:, IP:, email: or URI:", san);
	}
	if (*v == '\0')
		return err_set(HSMCA_E_INVALID, "SAN \"%s\" has an empty value", san);
	if (type == GEN_IPADD) {
		/* a2i_IPADDRESS takes IPv4 dotted quads and IPv6 text. */
		if ((ip = a2i_IPADDRESS(v)) == NULL) {
			ERR_clear_error();
			return err_set(HSMCA_E_INVALID, "SAN \"%s\" is not an IPv4 or IPv6 address", san);
		}
	} else {
		/* Only what IA5String cannot carry is refused here; DNS/email/URI syntax is the CSR
		 * policy's call (appliance/csr.c answers it as a policy refusal). */
		for (const char *c = v; *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				return err_set(HSMCA_E_INVALID, "SAN \"%s\" must be printable ASCII", san);
		}
		if ((ia5 = ASN1_IA5STRING_new()) == NULL || !ASN1_STRING_set(ia5, v, -1)) {
			ASN1_IA5STRING_free(ia5);
			return HSMCA_E_NOMEM;
		}
	}
	if ((gn = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(ia5);
		ASN1_OCTET_STRING_free(ip);
		return HSMCA_E_NOMEM;
	}
	GENERAL_NAME_set0_value(gn, type, type == GEN_IPADD ? (void *)ip : (void *)ia5);
	if (!sk_GENERAL_NAME_push(gens, gn)) {
		GENERAL_NAME_free(gn);
		return HSMCA_E_NOMEM;
	}
	return 0;
}

int
tok_make_csr(struct tok *tok, const char *keyref, const char *subject, const char *const *sans,
    size_t n_sans, struct buf *csr_der)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	EVP_PKEY *pub = NULL, *priv = NULL;
	EVP_MD_CTX *md = NULL;
	struct tok_uri u;
	enum tok_key_spec spec;
	uint8_t *der = NULL;
	size_t i;
	int len, rc;

	buf_free(csr_der);
	if (n_sans > TOK_SANS_MAX || (n_sans > 0 && sans == NULL))
		return err_set(HSMCA_E_INVALID, "at most %d SANs", TOK_SANS_MAX);
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	if ((rc = parse_subject(subject, &name)) != 0)
		goto out;
	if (X509_NAME_entry_count(name) == 0 && n_sans == 0) {
		rc = err_set(HSMCA_E_INVALID, "a CSR needs a subject or at least one SAN");
		goto out;
	}
	if ((req = X509_REQ_new()) == NULL || (gens = GENERAL_NAMES_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n_sans; i++) {
		if ((rc = add_san(gens, sans[i])) != 0)
			goto out;
	}
	if ((rc = tok_public_pkey(tok, u.id, u.id_len, &pub)) != 0)
		goto out;
	rc = HSMCA_E_INTERNAL;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) || !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub))
		goto out;
	if (n_sans > 0) {
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    (ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
		    !sk_X509_EXTENSION_push(exts, ext))
			goto out;
		ext = NULL;
		/* The extensionRequest attribute (RFC 2985 5.4.2). */
		if (!X509_REQ_add_extensions(req, exts))
			goto out;
	}
	if ((rc = tok_pkey_get_spec(tok, keyref, &priv, &spec)) != 0)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(md, NULL, tok_digest_for(spec), NULL, priv) != 1 || X509_REQ_sign_ctx(req, md) <= 0) {
		rc = err_set(HSMCA_E_TOKEN, "signing the CSR with %s failed", keyref);
		err_drain_openssl();
		rc = tok_pkey_failed(tok, keyref, rc);
		goto out;
	}
	if ((len = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	rc = buf_set(csr_der, der, (size_t)len);
out:
	if (rc == HSMCA_E_INTERNAL)
		err_set(rc, "building the CSR failed");
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}
