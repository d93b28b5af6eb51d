/*
 * db_cas_query.h: the changes the REST API makes to a CA row (rename, status, CRL settings,
 * delete) and the counts it checks first. db_cas.h stays the CA core's insert and reads.
 */
#ifndef HSMCA_DB_CAS_QUERY_H
#define HSMCA_DB_CAS_QUERY_H

#include <stdint.h>

struct db;

/* Settings not carried by struct db_ca. crl_validity_days 0: the configuration default. */
struct db_ca_settings {
	int crl_validity_days;
	int scep_enabled;
};

int db_cas_query_settings(struct db *db, int64_t id, struct db_ca_settings *out);

/* Changes the given columns of CA id: name NULL, status NULL, crl_validity_days < 0 leave a
 * column as it is; crl_validity_days 0 goes back to the default. HSMCA_E_EXISTS when the name is
 * taken, HSMCA_E_NOTFOUND when there is no such CA. Call inside a transaction with its audit row. */
int db_cas_query_update(struct db *db, int64_t id, const char *name, const char *status,
    int crl_validity_days);

/* CAs whose parent is id. */
int db_cas_query_count_children(struct db *db, int64_t id, int64_t *n);

/* Deletes CA id. Its certificates and orders stay in the inventory with no CA (as a discovered
 * certificate of a foreign issuer would); its CRLs and SCEP challenge entries go; SCEP log rows
 * keep their content without the CA. HSMCA_E_CONFLICT when another row still refers to the CA
 * (a child CA). Call inside a transaction with its audit row. */
int db_cas_query_delete(struct db *db, int64_t id);

#endif
