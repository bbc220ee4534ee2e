import Foundation
import OpenPGP
import Testing

/// Malformed, hostile and unsupported input: a typed error naming what and where, never a crash.
@Suite("OpenPGP parsing of bad input")
struct ParserTests {
    @Test("Armor: a missing or wrong checksum does not reject the data (RFC 9580 §6.1)")
    func armorChecksum() throws {
        let good = String(decoding: try Fixtures.bytes("ed25519-signing-subkey.asc"), as: UTF8.self)
        let lines = good.split(separator: "\n", omittingEmptySubsequences: false)
        let withoutChecksum = lines.filter { !($0.hasPrefix("=") && $0.count == 5) }.joined(separator: "\n")
        let wrongChecksum = lines.map { $0.hasPrefix("=") && $0.count == 5 ? "=AAAA" : String($0) }.joined(separator: "\n")
        let reference = try Armor.decode(Array(good.utf8))
        #expect(reference.first?.checksumMatched == true)
        #expect(try Armor.decode(Array(withoutChecksum.utf8)).first?.data == reference.first?.data)
        let wrong = try Armor.decode(Array(wrongChecksum.utf8))
        #expect(wrong.first?.data == reference.first?.data)
        #expect(wrong.first?.checksumMatched == false)
    }

    @Test("Armor round-trips, and several blocks in one text are all read")
    func armorRoundTrip() throws {
        let data = try Fixtures.bytes("rsa-two-uids-certified.pgp")
        let text = Armor.encode(data, as: .publicKey) + "\nsome text between\n" + Armor.encode(try Fixtures.bytes("expired.pgp"), as: .publicKey)
        let blocks = try Armor.decode(Array(text.utf8))
        #expect(blocks.count == 2)
        #expect(blocks[0].data == data)
        #expect(try Certificate.parse(Array(text.utf8)).count == 2)
    }

    @Test("Truncated input fails with an offset at every cut, never crashes")
    func truncation() throws {
        let data = try Fixtures.bytes("ed25519-signing-subkey.pgp")
        for length in 1..<data.count {
            do {
                let certificates = try Certificate.parse(Array(data.prefix(length)))
                // A cut exactly between packets is a shorter, well-formed certificate.
                #expect(certificates.count <= 1)
            } catch {
                #expect(error.offset != nil)
            }
        }
    }

    @Test("A version 3 key is refused as unsupported")
    func v3Key() {
        // Old-format public key packet, version 3, RSA with tiny MPIs.
        let body: [UInt8] = [3, 0, 0, 0, 1, 0, 0, 1, 0, 8, 0xFF, 0, 2, 0x03]
        let packet: [UInt8] = [0x99, 0, UInt8(body.count)] + body
        #expect(throws: OpenPGPError.self) { try Certificate.parse(packet) }
        do {
            _ = try Certificate.parse(packet)
        } catch {
            #expect(error.kind == .unsupported)
            #expect(error.message.contains("version 3"))
        }
    }

    @Test("Secret key material is refused with a hint")
    func secretKey() {
        let armored = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxUsG\n-----END PGP PRIVATE KEY BLOCK-----\n"
        do {
            _ = try Certificate.parse(Array(armored.utf8))
            Issue.record("a private key block must be refused")
        } catch {
            #expect(error.kind == .secretKeyMaterial)
            #expect(error.message.contains("public key only"))
        }
    }

    @Test("A partial body length in a key packet is refused")
    func partialLength() {
        let packet: [UInt8] = [0xC6, 0xE9] + [UInt8](repeating: 0, count: 600)
        do {
            _ = try Certificate.parse(packet)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .malformed)
            #expect(error.message.contains("partial body length"))
            #expect(error.offset == 0)
        }
    }

    @Test("Limits: input size and packet count")
    func limits() throws {
        let data = try Fixtures.bytes("keyring.pgp")
        #expect(throws: OpenPGPError.self) { try Certificate.parse(data, limits: OpenPGPLimits(maximumInputSize: 100)) }
        #expect(throws: OpenPGPError.self) { try Certificate.parse(data, limits: OpenPGPLimits(maximumPackets: 5)) }
    }

    @Test("Not OpenPGP at all is refused at byte 0")
    func garbage() {
        do {
            _ = try Certificate.parse(Array("hello, world".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 0)
        }
    }
}
