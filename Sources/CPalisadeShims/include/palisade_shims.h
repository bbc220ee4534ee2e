/*
 * palisade_shims: the few C entry points Swift cannot call directly.
 *
 * curl_easy_setopt and curl_easy_getinfo are variadic, and OPENSSL_free is a macro;
 * each wrapper here fixes one argument type so Swift sees an ordinary function.
 */
#ifndef PALISADE_SHIMS_H
#define PALISADE_SHIMS_H

#include <curl/curl.h>
#include <stddef.h>

/* curl_easy_setopt for options that take a long. */
CURLcode palisade_curl_setopt_long(CURL *handle, CURLoption option, long value);
/* curl_easy_setopt for options that take a C string (copied by libcurl). */
CURLcode palisade_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
/* curl_easy_setopt for options that take a pointer (callbacks' userdata, slists, blobs). */
CURLcode palisade_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
/* curl_easy_setopt for CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION. */
typedef size_t (*palisade_curl_write_callback)(char *data, size_t size, size_t count, void *userdata);
CURLcode palisade_curl_setopt_write_function(CURL *handle, CURLoption option, palisade_curl_write_callback callback);
/* curl_easy_setopt for CURLOPT_OPENSOCKETFUNCTION. */
CURLcode palisade_curl_setopt_opensocket_function(CURL *handle, curl_opensocket_callback callback);
/* curl_easy_getinfo for values returned as long. */
CURLcode palisade_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
/* curl_easy_getinfo for values returned as a C string owned by the handle. */
CURLcode palisade_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
/* curl_easy_getinfo for CURLINFO_CERTINFO (the list is owned by the handle). */
CURLcode palisade_curl_getinfo_certinfo(CURL *handle, struct curl_certinfo **value);
/* curl_easy_getinfo for values returned as a double. */
CURLcode palisade_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);

/* curl_multi_setopt for options that take a long. */
CURLMcode palisade_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* libFuzzer's driver, present only in binaries built with -sanitize=fuzzer (the Fuzz/ targets call it
   from their main, since SwiftPM names an executable's entry point itself). */
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/* OPENSSL_free is a macro over CRYPTO_free. */
void palisade_openssl_free(void *pointer);

#endif
