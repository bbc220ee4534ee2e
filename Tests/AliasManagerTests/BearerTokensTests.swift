@testable import HTTPService
import Testing

@Suite("Bearer tokens")
struct BearerTokensTests {
    let tokens = BearerTokens(["webmail:0123456789abcdef0123456789abcdef", "provisioning:ffffffffffffffffffffffffffffffff0"])

    @Test("A configured token names its holder; anything else names nobody")
    func holders() {
        #expect(tokens.holder(of: "0123456789abcdef0123456789abcdef") == "webmail")
        #expect(tokens.holder(of: "ffffffffffffffffffffffffffffffff0") == "provisioning")
        #expect(tokens.holder(of: "0123456789abcdef0123456789abcdee") == nil)
        #expect(tokens.holder(of: "0123456789abcdef0123456789abcdef0") == nil)
        #expect(tokens.holder(of: "0123456789abcdef0123456789abcde") == nil)
        #expect(tokens.holder(of: "") == nil)
        #expect(tokens.holder(of: "webmail:0123456789abcdef0123456789abcdef") == nil)
        #expect(BearerTokens([]).holder(of: "") == nil)
    }

    @Test("The comparison is exact", arguments: [
        ([UInt8](), [UInt8](), true), ([1, 2, 3], [1, 2, 3], true), ([1, 2, 3], [1, 2, 4], false),
        ([1, 2], [1, 2, 0], false), ([1, 2, 0], [1, 2], false), ([], [0], false), ([0], [], false),
        // A length difference of 256 must not wrap to "equal".
        ([UInt8](repeating: 7, count: 256), [], false),
    ])
    func constantTimeEqual(a: [UInt8], b: [UInt8], equal: Bool) {
        #expect(BearerTokens.constantTimeEqual(a, b) == equal)
    }
}
