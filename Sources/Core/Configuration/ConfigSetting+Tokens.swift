extension ConfigSetting where Value == [String] {
    /// A secret list of bearer tokens written `name:token`: the name identifies the caller in the audit
    /// log; the token has at least 32 characters. Used by every service's HTTP API.
    public static func bearerTokens(_ key: String, _ summary: String) -> Self {
        stringList(key, default: [], secret: true, summary, validate: { list in
            for entry in list {
                guard let colon = entry.firstIndex(of: ":") else { return "a \(key) entry has no name: write name:token" }
                let name = entry[..<colon]
                let token = entry[entry.index(after: colon)...]
                guard !name.isEmpty, name.count <= 40, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    return "a \(key) name must be 1-40 letters, digits, - or _"
                }
                guard token.count >= 32 else { return "the \(key) token named \(name) is shorter than 32 characters" }
            }
            return nil
        })
    }
}
