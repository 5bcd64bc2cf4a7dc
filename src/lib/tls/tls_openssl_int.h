/**
 * @file tls_openssl_int.h
 * @brief Internal to src/lib/tls: the OpenSSL backend's extra entry
 * points that take OpenSSL types (used by the test helpers and the X.509
 * helpers).  Never include this outside src/lib/tls.
 **/
#ifndef CHIVE_LIB_TLS_TLS_OPENSSL_INT_H
#define CHIVE_LIB_TLS_TLS_OPENSSL_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/tls/tls.h"

/** Create a server-side connection presenting <b>cert</b> with private
 * key <b>key</b> (both borrowed; OpenSSL takes its own references).  Used
 * by test fakes of a relay. */
CHIVE_MUST_CHECK chive_err_t tls_openssl_server_new(X509 *cert,
                                                    EVP_PKEY *key,
                                                    tls_conn_t **out);

#endif /* !defined(CHIVE_LIB_TLS_TLS_OPENSSL_INT_H) */
