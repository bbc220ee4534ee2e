import Core
import Foundation
import Keystore
@testable import OpenPGP
import Testing

/// An upload carrying forged signatures (real ones with a later creation time patched in, so they parse
/// but never verify) must not change what a stored key says: validation weighs only the newest
/// signatures of each kind, so unverified ones must never join a merge.
@Suite("Forged signatures in an upload")
struct ForgedSignatureTests {
    typealias World = KeystoreWorld

    /// merge-2.pgp with `count` copies of the work User ID's self-signature, each claiming a later time.
    static func flooded(count: Int) throws -> [UInt8] {
        let packets = try PacketReader.packets(World.fixture("merge-2.pgp"))
        var output: [UInt8] = []
        var afterWorkUserID = false
        for packet in packets {
            output += packet.serialized
            if packet.tag == .userID { afterWorkUserID = String(decoding: packet.body, as: UTF8.self).contains("mia@work.example") }
            guard afterWorkUserID, packet.tag == .signature else { continue }
            afterWorkUserID = false
            let original = try SignaturePacket(packet: packet, limits: .default)
            let time = try #require(original.creationTime)
            let stamp: [UInt8] = [0x05, 0x02] + withUnsafeBytes(of: time.bigEndian, Array.init)
            let at = try #require(packet.body.firstRange(of: stamp)?.lowerBound)
            for step in 1...count {
                var body = packet.body
                body.replaceSubrange(at + 2..<at + 6, with: withUnsafeBytes(of: (time + UInt32(step)).bigEndian, Array.init))
                output += [0xC2] + (body.count < 192 ? [UInt8(body.count)] : [UInt8((body.count - 192) >> 8 + 192), UInt8((body.count - 192) & 0xFF)]) + body
            }
        }
        return output
    }

    @Test("A flood of forged later self-signatures neither removes a User ID nor lifts its revocation")
    func flood() async throws {
        let world = try await World.make()
        defer { world.close() }
        let keystore = world.keystore
        // Alone, the flooded copy is still a valid key (the forgeries are dropped)...
        _ = try await keystore.importCertificates(World.fixture("merge-2.pgp"), for: world.mia, by: World.actor)
        #expect(try await keystore.importCertificates(Self.flooded(count: 40), for: world.mia, by: World.actor).map(\.outcome) == [.unchanged])
        #expect(try await keystore.key(World.miaFingerprint, of: world.mia).userIDs.count == 2)
        // ...and merged over a copy whose work User ID is revoked, the revocation stays.
        _ = try await keystore.importCertificates(World.fixture("merge-3-work-revoked.pgp"), for: world.mia, by: World.actor)
        #expect(try await keystore.importCertificates(Self.flooded(count: 40), for: world.bob, by: World.actor).map(\.outcome) == [.unchanged])
        // Mia, who imported the revocation, sees it kept. (Bob sees only the User IDs that validated in his own
        // upload; the flood crowds the work User ID's real self-signature out of that upload's validation, so
        // his view lacks it: the price of never showing a User ID an upload did not prove.)
        #expect(try await keystore.key(World.miaFingerprint, of: world.bob).userIDs.map(\.email) == ["mia@example.org"])
        let key = try await keystore.key(World.miaFingerprint, of: world.mia)
        #expect(key.userIDs.first { $0.email == "mia@work.example" }?.revoked == true)
    }
}
