#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>

/* EVP_PKEY_PUBLIC_KEY is a compound macro Swift cannot import. */
static const int PALISADE_EVP_PKEY_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

/* XN_FLAG_RFC2253 is a compound macro too. */
static const unsigned long PALISADE_XN_FLAG_RFC2253 = XN_FLAG_RFC2253;
