import Foundation

/// A directory in certbot's layout (`live/<name>/fullchain.pem`, `privkey.pem`) with certificates issued by
/// the test world's CA, for the HTTPS listeners that read one (WKD as a service, our MTA-STS policy hosts).
public struct CertbotDirectory: Sendable {
    public let root: URL

    public static func make() throws -> CertbotDirectory {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-certbot-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("live"), withIntermediateDirectories: true)
        return CertbotDirectory(root: root)
    }

    public func close() { try? FileManager.default.removeItem(at: root) }

    public func live(_ name: String) -> URL { root.appendingPathComponent("live").appendingPathComponent(name) }

    /// Issues a certificate for `names` from the test CA into `live/<name>/` (fullchain.pem: leaf and CA;
    /// privkey.pem); returns the leaf's SHA-256 fingerprint as openssl prints it.
    @discardableResult
    public func issue(_ name: String, for names: [String], days: Int = 2) async throws -> String {
        let world = try TestWorld.current()
        let https = URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent()
        let folder = live(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = """
            set -euo pipefail
            cd "$1"; ca=$2; key=$3; days=$4; shift 4
            sans=$(printf 'DNS:%s,' "$@"); sans=${sans%,}
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.new -out req.csr -subj "/CN=$1" -addext "subjectAltName=$sans" 2>/dev/null
            openssl x509 -req -in req.csr -CA "$ca" -CAkey "$key" -set_serial "0x$(openssl rand -hex 12)" -days "$days" -copy_extensions copy -out leaf.pem 2>/dev/null
            cat leaf.pem "$ca" > fullchain.new
            mv key.new privkey.pem; mv fullchain.new fullchain.pem; rm -f req.csr
            openssl x509 -in leaf.pem -noout -fingerprint -sha256; rm leaf.pem
            """
        return try await ChildProcess.run("/bin/bash", ["-c", script, "issue", folder.path, world.certificateAuthorityFile,
                                                        https.appendingPathComponent("ca.key").path, "\(days)"] + names)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What an HTTPS listener presents and serves, asked with openssl and curl.
public enum HTTPSProbe {
    /// The SHA-256 fingerprint of the certificate the listener presents for `serverName`: "" when the
    /// connection was made but no certificate came, "unreachable" when none was made.
    public static func presented(_ port: Int, serverName: String?) async throws -> String {
        let sni = serverName.map { "-servername \($0)" } ?? "-noservername"
        return try await ChildProcess.run("/bin/bash", ["-c", """
            out=$(openssl s_client -connect 127.0.0.1:\(port) \(sni) </dev/null 2>&1) || true
            case "$out" in *CONNECTED*) ;; *) echo unreachable; exit 0 ;; esac
            printf '%s\\n' "$out" | openssl x509 -noout -fingerprint -sha256 2>/dev/null || true
            """]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// curl over HTTPS to `host` (resolved to the listener) trusting the test CA: status and body ("000" when TLS fails).
    public static func fetch(_ port: Int, host: String, _ path: String) async throws -> (status: String, body: [UInt8]) {
        let world = try TestWorld.current()
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-https-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        let (_, status) = try await ChildProcess.runReportingStatus("/usr/bin/curl", [
            "-s", "-o", bodyFile.path, "-w", "%{http_code}", "--cacert", world.certificateAuthorityFile,
            "--resolve", "\(host):\(port):127.0.0.1", "https://\(host):\(port)\(path)",
        ])
        return (status, (try? Data(contentsOf: bodyFile)).map(Array.init) ?? [])
    }
}
