// OpenSSL's libcrypto (Debian libssl-dev): X.509 certificates and signature verification for
// firmware images.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

// BIO_new_mem_buf takes an int length; PEM_read_bio_X509 and EVP_PKEY_CTX_set_rsa_padding are
// macros or have awkward signatures in some OpenSSL versions: small wrappers keep Swift simple.
static inline X509 *cs_x509_from_pem(const char *pem, int length) {
    BIO *bio = BIO_new_mem_buf(pem, length);
    if (bio == NULL) return NULL;
    X509 *certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return certificate;
}
static inline int cs_pkey_ctx_set_rsa_pss(EVP_PKEY_CTX *context) {
    if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) <= 0) return 0;
    return EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_AUTO) > 0;
}
