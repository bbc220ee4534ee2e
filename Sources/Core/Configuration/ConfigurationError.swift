/// A configuration problem, named precisely enough for an operator to fix it without reading code.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of problem; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let fileMissing = Code(name: "fileMissing")
        public static let fileUnreadable = Code(name: "fileUnreadable")
        public static let malformedFile = Code(name: "malformedFile")
        public static let unknownKey = Code(name: "unknownKey")
        public static let wrongType = Code(name: "wrongType")
        public static let invalidValue = Code(name: "invalidValue")
    }

    public var code: Code
    /// The setting's key (`database.maxConnections`), when the problem is about one.
    public var key: String?
    /// Where the value came from: a file path, `environment variable PALISADE_…` or `flag --…`.
    public var source: String?
    public var message: String

    public init(code: Code, key: String? = nil, source: String? = nil, message: String) {
        self.code = code
        self.key = key
        self.source = source
        self.message = message
    }

    public var description: String {
        var text = ""
        if let source { text += "\(source): " }
        if let key { text += "\(key): " }
        return text + message
    }
}

/// Several configuration problems found in one pass, so an operator fixes them all at once.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigurationError]
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
