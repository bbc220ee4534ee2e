import Core
import Foundation

/// The Public Suffix List (publicsuffix.org; Debian's `publicsuffix` package installs it at
/// `/usr/share/publicsuffix/public_suffix_list.dat`): which names are registries' suffixes, so that a
/// domain's organisational domain (RFC 7489 §3.2) can be found: its public suffix and one label more.
///
/// Both the ICANN and the private sections are read, as OpenDMARC does. Rules in Unicode are stored as
/// A-labels, since names are compared in their ASCII form.
public struct PublicSuffixList: Sendable {
    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"
    /// The list is about 230 KiB; a file past this is not one.
    public static let maximumSize = 16 << 20

    public var count: Int { rules.count + wildcards.count + exceptions.count }

    /// Reads the list's text: one rule per line, `//` comments, `*.` wildcards and `!` exceptions.
    public init(text: String) throws(PublicSuffixListError) {
        guard text.utf8.count <= Self.maximumSize else { throw PublicSuffixListError("the list is larger than \(Self.maximumSize) bytes") }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // A rule ends at the first white space.
            let rule = line.prefix { !$0.isWhitespace }
            if rule.isEmpty || rule.hasPrefix("//") { continue }
            var name = rule.lowercased()
            var set = \PublicSuffixList.rules
            if name.hasPrefix("!") {
                name.removeFirst()
                set = \PublicSuffixList.exceptions
            } else if name.hasPrefix("*.") {
                name.removeFirst(2)
                set = \PublicSuffixList.wildcards
            }
            guard let ascii = Self.ascii(name) else { throw PublicSuffixListError("line \(number + 1): \"\(rule.prefix(80))\" is not a rule") }
            self[keyPath: set].insert(ascii)
        }
        guard !rules.isEmpty else { throw PublicSuffixListError("the list has no rules") }
    }

    /// Reads the list from a file (default: Debian's).
    public init(contentsOf path: String = debianPath) throws(PublicSuffixListError) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, size <= Self.maximumSize, let data = FileManager.default.contents(atPath: path) else {
            throw PublicSuffixListError("cannot read \(path) (Debian: apt-get install publicsuffix)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// The public suffix of `domain` by the list's algorithm: the longest matching rule, an exception
    /// rule winning (its suffix is the rule less its first label), `*` when no rule matches.
    public func publicSuffix(of domain: DomainName) -> String {
        let labels = domain.labels.map(String.init)
        var longest = 1
        for count in 1...labels.count {
            let suffix = labels.suffix(count).joined(separator: ".")
            if exceptions.contains(suffix) { return labels.suffix(count - 1).joined(separator: ".") }
            if rules.contains(suffix) { longest = max(longest, count) }
            if count < labels.count, wildcards.contains(suffix) { longest = max(longest, count + 1) }
        }
        return labels.suffix(longest).joined(separator: ".")
    }

    /// The organisational domain (RFC 7489 §3.2): the public suffix and one more label; a domain that
    /// is itself a public suffix is its own.
    public func organizationalDomain(of domain: DomainName) -> DomainName {
        let labels = domain.labels
        let suffixLabels = publicSuffix(of: domain).split(separator: ".").count
        guard suffixLabels < labels.count else { return domain }
        return (try? DomainName(labels.suffix(suffixLabels + 1).joined(separator: "."))) ?? domain
    }

    private static func ascii(_ name: String) -> String? {
        var labels: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else { return nil }
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                labels.append(String(label))
            } else {
                guard let encoded = Punycode.encode(String(label)) else { return nil }
                labels.append("xn--" + encoded)
            }
        }
        return labels.joined(separator: ".")
    }
}

/// Why the list cannot be read.
public struct PublicSuffixListError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
