import CCurl
import COpenSSL
import CPalisadeShims
import CUnbound
import Testing

/// The system libraries the later network and OpenPGP libraries stand on must link and answer:
/// a missing `-dev` package or a broken modulemap fails here, before anything builds on them.
@Suite("System libraries and C shims")
struct SystemLibraryLinkTests {
    @Test("libcurl options set through the shims take effect")
    func curlShims() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(palisade_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 1234) == CURLE_OK)
        #expect(palisade_curl_setopt_string(handle, CURLOPT_URL, "https://127.0.0.1:1/") == CURLE_OK)
        var effective: UnsafePointer<CChar>?
        #expect(palisade_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK)
        #expect(effective.map { String(cString: $0) } == "https://127.0.0.1:1/")
        // An option that needs a number refuses a value outside its range: the shim passes libcurl's answer on.
        #expect(palisade_curl_setopt_long(handle, CURLOPT_SSLVERSION, 9999) != CURLE_OK)
    }

    @Test("OpenSSL 3 is linked and its allocator is reachable through the shim")
    func openSSL() throws {
        #expect(OpenSSL_version_num() >= 0x3000_0000)
        let buffer = try #require(CRYPTO_malloc(16, #fileID, #line))
        palisade_openssl_free(buffer)
    }

    @Test("libunbound creates and destroys a context")
    func unbound() throws {
        let context = try #require(ub_ctx_create())
        defer { ub_ctx_delete(context) }
        // An unknown option is refused with libunbound's syntax error, proving the call reached the library.
        #expect(ub_ctx_set_option(context, "no-such-option:", "1") != 0)
    }
}
