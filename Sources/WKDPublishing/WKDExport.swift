import Core
import Foundation

/// The static export (`platformctl wkd export DIR`): the publisher's content as a directory tree that
/// any web server can serve, one directory per host name:
///
///     DIR/openpgpkey.<domain>/.well-known/openpgpkey/<domain>/hu/<hash>   (advanced method)
///     DIR/openpgpkey.<domain>/.well-known/openpgpkey/<domain>/policy
///     DIR/<domain>/.well-known/openpgpkey/hu/<hash>                       (direct method)
///     DIR/<domain>/.well-known/openpgpkey/policy
///
/// Replaced atomically: `DIR` is a symbolic link to a complete tree beside it (`DIR.<time>`); a new tree
/// is written in full, the link is swapped with one rename, and the old tree is removed, so a server
/// never sees a half-written or stale mix and removed keys disappear.
public enum WKDExport {
    public struct Summary: Sendable, Equatable, Codable {
        public let directory: String
        public let domains: Int
        public let entries: Int
        public let files: Int
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether `target` (a link's destination) is a tree an export named for `name`: `name.<digits>-<digits>`.
    static func isTree(_ target: String, of name: String) -> Bool {
        guard target.hasPrefix(name + "."), !target.contains("/") else { return false }
        let stamp = target.dropFirst(name.count + 1).split(separator: "-", omittingEmptySubsequences: false)
        return stamp.count == 2 && stamp.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    public static func write(domains: Set<String>, entries: [WKDEntry], to directory: String) throws -> Summary {
        let fileManager = FileManager.default
        let link = URL(fileURLWithPath: directory).standardizedFileURL
        let parent = link.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        // Only a link this export made is replaced, and only its tree removed: a relative sibling named
        // <name>.<stamp>. Anything else in the way (a directory, a link elsewhere) is left alone.
        let previous = try? fileManager.destinationOfSymbolicLink(atPath: link.path)
        if let previous, !Self.isTree(previous, of: link.lastPathComponent) {
            throw Failure(description: "\(link.path) links to \(previous), which is not a tree of an earlier export; move it away first")
        }
        if previous == nil, fileManager.fileExists(atPath: link.path, isDirectory: &isDirectory) {
            throw Failure(description: "\(link.path) exists and is not a symbolic link from an earlier export; move it away first")
        }
        // Host names become directory names: only A-labels (the tables allow nothing else; checked again).
        for domain in domains where (try? DomainName(domain))?.ascii != domain || domain.contains("/") {
            throw Failure(description: "\(domain) is not a domain name the export can write")
        }
        guard fileManager.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(description: "\(parent.path) is not a directory")
        }
        let stamp = "\(Int(Date().timeIntervalSince1970 * 1000))-\(UInt32.random(in: 0...UInt32.max))"
        let tree = parent.appendingPathComponent("\(link.lastPathComponent).\(stamp)")
        var files = 0
        do {
            func put(_ data: [UInt8], _ path: String) throws {
                let file = tree.appendingPathComponent(path)
                try fileManager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
                guard fileManager.createFile(atPath: file.path, contents: Data(data), attributes: [.posixPermissions: 0o644]) else {
                    throw Failure(description: "cannot write \(file.path)")
                }
                files += 1
            }
            try fileManager.createDirectory(at: tree, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            for domain in domains.sorted() {
                try put([], "openpgpkey.\(domain)/.well-known/openpgpkey/\(domain)/policy")
                try put([], "\(domain)/.well-known/openpgpkey/policy")
            }
            for entry in entries where domains.contains(entry.domain) {
                for hash in entry.hashes {
                    try put(entry.body, "openpgpkey.\(entry.domain)/.well-known/openpgpkey/\(entry.domain)/hu/\(hash)")
                    try put(entry.body, "\(entry.domain)/.well-known/openpgpkey/hu/\(hash)")
                }
            }
            // The swap: a new link beside the old one, renamed over it (rename(2) replaces atomically).
            let newLink = parent.appendingPathComponent(".\(link.lastPathComponent).link-\(stamp)")
            try fileManager.createSymbolicLink(atPath: newLink.path, withDestinationPath: tree.lastPathComponent)
            guard rename(newLink.path, link.path) == 0 else {
                try? fileManager.removeItem(at: newLink)
                throw Failure(description: "cannot replace \(link.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? fileManager.removeItem(at: tree)
            throw error
        }
        if let previous, previous != tree.lastPathComponent {
            try? fileManager.removeItem(at: parent.appendingPathComponent(previous))
        }
        return Summary(directory: link.path, domains: domains.count, entries: entries.filter { domains.contains($0.domain) }.count, files: files)
    }
}
