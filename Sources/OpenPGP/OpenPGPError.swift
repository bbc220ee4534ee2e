/// Why OpenPGP data was refused: what is wrong and where, as an operator or a user can act on it.
///
/// Every parser error names the byte offset in the (de-armored) input where the problem was found, so a
/// refused upload can be explained ("packet at offset 1234: signature subpacket runs past its area").
public struct OpenPGPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The data is not OpenPGP, or its framing is broken.
        case malformed
        /// A limit on size or count was exceeded.
        case tooLarge
        /// Valid OpenPGP that Palisade does not accept (v3 keys, secret keys, …).
        case unsupported
        /// Armor that cannot be read.
        case armor
        /// Secret key material where a public certificate belongs (a user exported the wrong thing).
        case secretKeyMaterial
    }

    public let kind: Kind
    public let message: String
    /// Byte offset in the binary input, when the error is about a place in it.
    public let offset: Int?

    public init(_ kind: Kind, _ message: String, at offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(message) (at byte \(offset))" }
        return message
    }
}

/// Bounds on what the parser accepts, so hostile input costs little. The defaults fit any real
/// certificate (the largest on public key servers are a few MiB with thousands of signatures).
public struct OpenPGPLimits: Sendable {
    /// Largest input, armored or binary.
    public var maximumInputSize: Int
    /// Most packets in one input (a keyring counts all its certificates' packets).
    public var maximumPackets: Int
    /// Most subpackets in one signature's hashed and unhashed areas together.
    public var maximumSubpackets: Int

    public init(maximumInputSize: Int = 64 << 20, maximumPackets: Int = 1_000_000, maximumSubpackets: Int = 512) {
        self.maximumInputSize = maximumInputSize
        self.maximumPackets = maximumPackets
        self.maximumSubpackets = maximumSubpackets
    }

    public static let `default` = OpenPGPLimits()
}
