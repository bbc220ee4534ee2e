import Core
import Foundation
import KeyDiscovery
import Keystore

/// Publishing a user's key at the VKS when they ask, for the addresses they choose: the certificate with
/// only those User IDs is uploaded (`/vks/v1/upload`), the VKS is asked to send each address not yet
/// published its confirmation e-mail (`/vks/v1/request-verify`: the user's double opt-in, which is the
/// VKS's own rule), and the VKS's answer is recorded per address (`vks_publications`), audited.
public struct VKSKeyPublication: Sendable {
    let keystore: AccountKeystore
    let client: VKSClient

    public init(keystore: AccountKeystore, client: VKSClient) {
        self.keystore = keystore
        self.client = client
    }

    public func publish(account: Int64, fingerprint: Fingerprint, addresses: [String], by actor: String) async throws -> [VKSPublicationState] {
        let (armored, chosen) = try await keystore.vksUpload(account: account, fingerprint: fingerprint, addresses: addresses)
        let uploaded = try await client.upload(armoredKey: armored)
        func state(_ answer: VKSUploadStatus, _ address: String) -> VKSUploadStatus.AddressState? {
            answer.status.first { $0.key.lowercased() == address }?.value
        }
        let unconfirmed = chosen.filter { state(uploaded, $0) != .published }
        let answer = unconfirmed.isEmpty ? uploaded : try await client.requestVerify(token: uploaded.token, addresses: unconfirmed)
        let states = Dictionary(chosen.map { ($0, (state(answer, $0) ?? state(uploaded, $0) ?? .unpublished).rawValue) }, uniquingKeysWith: { first, _ in first })
        return try await keystore.recordVKSPublication(account: account, fingerprint: fingerprint, states: states, by: actor)
    }

    public func states(account: Int64, fingerprint: Fingerprint) async throws -> [VKSPublicationState] {
        try await keystore.vksPublications(account: account, fingerprint: fingerprint)
    }
}
