/*
 * passwd.h: password hashing (scrypt through OpenSSL's EVP_KDF API) and random passwords.
 *
 * The stored form is self-describing, "scrypt$N$r$p$<salt base64>$<hash base64>", so the cost can
 * be raised later and old hashes still verify. Every hash gets a fresh 16-byte random salt.
 * Pure apart from OpenSSL's RNG and KDF: no database, no globals; safe from any thread.
 * Passwords are never logged; every copy this module makes is wiped before it is freed.
 */
#ifndef HSMCA_PASSWD_H
#define HSMCA_PASSWD_H

#include <stddef.h>

/* Longest password accepted (bytes). Longer inputs are HSMCA_E_INVALID, so a client cannot make
 * the server hash megabytes. */
#define PASSWD_MAX_LEN 1024
/* Shortest password a user may set through passwd_check_policy() (NIST SP 800-63B §5.1.1.2
 * minimum; length beyond it is the user's choice, and a generated one has 24). */
#define PASSWD_MIN_LEN 8
/* Length of a password made by passwd_generate(). */
#define PASSWD_GEN_LEN 24

/* Hashes password (NUL-terminated, 1..PASSWD_MAX_LEN bytes) with a fresh salt.
 * *encoded_out: malloc'd string, caller frees with free(). 0, HSMCA_E_INVALID, HSMCA_E_NOMEM or
 * HSMCA_E_INTERNAL (KDF failure). */
int passwd_hash(const char *password, char **encoded_out);

/* Checks password against an encoded hash in constant time. 0 when it matches, HSMCA_E_AUTH when
 * it does not, HSMCA_E_INVALID when encoded is malformed or asks for parameters outside the
 * accepted bounds (a tampered row must not make the server allocate gigabytes). */
int passwd_verify(const char *password, const char *encoded);

/* A random password of PASSWD_GEN_LEN characters from an alphabet without look-alikes (no 0 O o
 * 1 l I). *password_out: caller frees with passwd_free(). */
int passwd_generate(char **password_out);

/* 0 when password is acceptable as a new password (length PASSWD_MIN_LEN..PASSWD_MAX_LEN, no
 * control characters); HSMCA_E_POLICY with a detail otherwise. */
int passwd_check_policy(const char *password);

/* Wipes and frees a password string. passwd_free(NULL) is a no-op. */
void passwd_free(char *password);

#endif
