import Core
import CoreTestSupport
import Foundation
import Testing

/// The DMARC milter of the `palisade-transport` executable behind a real Postfix: the test world's Postfix has
/// a listener with `smtpd_milters` pointing at PALISADE_TEST_MILTER_PORT; messages go in with swaks (Debian),
/// signed where needed by dkimpy's dkimsign. One test at a time: Postfix sends to that one milter port.
@Suite("palisade-transport's milter behind a real Postfix, fed by swaks", .serialized)
struct MilterPostfixTests {
    static let s = "secure.palisade.example"

    /// The message `data` sent through Postfix from `mailFrom`; swaks's transcript.
    static func send(_ data: String, mailFrom: String, port: Int) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-swaks-\(UUID().uuidString)")
        try data.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await ChildProcess.runReportingStatus("/usr/bin/swaks", [
            "--server", "127.0.0.1:\(port)", "--helo", "client.example", "--from", mailFrom, "--to", "bob@example.org", "--data", file.path,
        ], includingStandardError: true).output
    }

    /// The world's directory (Postfix's configuration is its `smtp/`, OpenDMARC's its `opendmarc/`).
    static func worldDirectory(_ world: TestWorld) -> URL {
        URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent().deletingLastPathComponent()
    }

    /// palisade-transport with its milter on the world's milter port (authserv-id mx.test.example) and `settings`
    /// (more `transport.milter` keys, indented as they are), listening; stop it when done.
    static func startMilter(_ world: TransportWorld, port: Int, settings: String = "") async throws -> RunningService {
        let config = try TransportServiceTests.configuration(world.world, extra: TransportServiceTests.listeners() + """
              milter:
                port: \(port)
                authservID: mx.test.example
            """ + settings)
        defer { try? FileManager.default.removeItem(at: config) }
        let service = try RunningService("palisade-transport", ["--config", config.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@"))
        do {
            _ = try await service.listeningPort("milter.port", in: world.db)
        } catch {
            service.stop()
            throw error
        }
        return service
    }

    static func message(from: String, subject: String = "milter test") -> String {
        "From: Alice <\(from)>\r\nTo: bob@example.org\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@test>\r\n\r\nHello Bob.\r\n"
    }

    @Test("The milter also listens on a unix socket with the configured mode, and negotiates protocol 6 there")
    func unixSocket() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-milter-\(UUID().uuidString.prefix(8)).sock").path
        let config = try TransportServiceTests.configuration(world.world, extra: TransportServiceTests.listeners() + """
              milter:
                path: \(socket)
                pathMode: "0600"
            """)
        defer { try? FileManager.default.removeItem(at: config) }
        let service = try RunningService("palisade-transport", ["--config", config.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@"))
        defer { service.stop() }
        try await world.db.eventually("the milter socket is listening") { service.logged.contains("milter.path=\(socket)") || !service.process.isRunning }
        let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A client as Postfix starts: SMFIC_OPTNEG offering version 6, every action and step; the answer is SMFIC_OPTNEG.
        let client = """
            import socket, struct, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1FF, 0x1FFFFF))
            data = b""
            while len(data) < 17: data += s.recv(64)
            length, code, version, actions, steps = struct.unpack(">IcIII", data[:17])
            print(code.decode(), version, hex(actions), hex(steps))
            """
        let answer = try await ChildProcess.run("/usr/bin/python3", ["-c", client, socket])
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "O 6 0x31 0x100308", "\(answer)")
    }

    @Test("Aligned DKIM or SPF is queued, p=reject unauthenticated or with a broken signature is 550 5.7.1, no or a malformed record is queued, sp=quarantine is held with Authentication-Results, a DNS failure is 451")
    func dispositions() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        guard let smtp = world.world.smtpMilterPort, let milter = world.world.milterPort else {
            throw TestWorld.Missing(description: "the test world runs no Postfix: world.sh starts one only as root")
        }
        let service = try await Self.startMilter(world, port: milter)
        defer { service.stop() }

        let signed = try await DKIMSigner.sign(Self.message(from: "alice@dkim.\(Self.s)"), key: "rsa")
        var transcript = try await Self.send(signed, mailFrom: "bounce@spf-fail.\(Self.s)", port: smtp)
        #expect(transcript.contains("<-  250 2.0.0 Ok: queued as"), "\(transcript)\n\(service.logged)")

        transcript = try await Self.send(Self.message(from: "alice@dmarc.\(Self.s)"), mailFrom: "alice@spf-fail.\(Self.s)", port: smtp)
        #expect(transcript.contains("<** 550 5.7.1 the DMARC policy of dmarc.\(Self.s) rejects mail"), "\(transcript)")

        // SPF alone, relaxed-aligned through the Organizational Domain (palisade.example): queued.
        transcript = try await Self.send(Self.message(from: "alice@dkim.\(Self.s)"), mailFrom: "bounce@spf-pass.\(Self.s)", port: smtp)
        #expect(transcript.contains("<-  250 2.0.0 Ok: queued as"), "\(transcript)")
        // A signature broken in transit, and SPF failing: p=reject rejects.
        let broken = signed.replacingOccurrences(of: "Hello Bob.", with: "Hello Mallory.")
        transcript = try await Self.send(broken, mailFrom: "bounce@spf-fail.\(Self.s)", port: smtp)
        #expect(transcript.contains("<** 550 5.7.1 the DMARC policy of dkim.\(Self.s) rejects mail"), "\(transcript)")
        // No DMARC record anywhere, and a malformed one (permerror): no policy to apply, queued.
        transcript = try await Self.send(Self.message(from: "alice@nodmarc.example"), mailFrom: "bounce@spf-fail.\(Self.s)", port: smtp)
        #expect(transcript.contains("<-  250 2.0.0 Ok: queued as"), "\(transcript)")
        transcript = try await Self.send(Self.message(from: "alice@doctor-bad.\(Self.s)"), mailFrom: "bounce@spf-fail.\(Self.s)", port: smtp)
        #expect(transcript.contains("<-  250 2.0.0 Ok: queued as"), "\(transcript)")

        transcript = try await Self.send(Self.message(from: "alice@expired.palisade.example"), mailFrom: "a@spf-pass.\(Self.s)", port: smtp)
        #expect(transcript.contains("<** 451 4.7.5 cannot evaluate DMARC for expired.palisade.example"), "\(transcript)")

        transcript = try await Self.send(Self.message(from: "alice@real.dmarc.\(Self.s)"), mailFrom: "", port: smtp)
        let queued = transcript.split(separator: "\n").first { $0.contains("Ok: queued as") }.map { String($0.split(separator: " ").last!) }
        let id = try #require(queued, "\(transcript)")
        // Quarantined: in Postfix's hold queue, with our header at the top.
        let spool = Self.worldDirectory(world.world).appendingPathComponent("smtp")
        let held = try await ChildProcess.runReportingStatus("/usr/sbin/postcat", ["-c", spool.path, "-h", "-q", id], includingStandardError: true)
        #expect(held.output.contains("Authentication-Results: mx.test.example;"), "\(held.output)")
        #expect(held.output.contains("dmarc=fail (p=quarantine dis=QUARANTINE) header.from=real.dmarc.\(Self.s)"), "\(held.output)")
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("queue/hold/\(id)").path), "held, not delivered")

        // The per-day data for aggregate reports: one row per outcome, counted once the MTA had its answer.
        try await world.db.eventually("the outcomes with a policy are counted") {
            (try? await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE messages = 1")) == 5
        }
        #expect(try await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE header_from = 'dmarc.\(Self.s)' AND dmarc = 'fail' "
                                         + "AND disposition = 'reject' AND policy = 'reject' AND spf_result = 'fail' AND source_ip = '127.0.0.1'") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE header_from = 'dkim.\(Self.s)' AND dmarc = 'pass' "
                                         + "AND dkim_aligned AND dkim = 'd=dkim.\(Self.s) s=rsa pass'") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE header_from = 'dkim.\(Self.s)' AND dmarc = 'fail' AND disposition = 'reject'") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE header_from = 'dkim.\(Self.s)' AND dmarc = 'pass' AND spf_aligned AND NOT dkim_aligned") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM dmarc_aggregate WHERE dmarc IN ('temperror', 'permerror', 'none')") == 0, "no policy, no report row")
        let metrics = service.logged
        #expect(!metrics.contains("milter connection closed on an error"), "\(metrics)")
    }
}
