// swift-tools-version: 6.1
import PackageDescription

/// Palisade: the security backend of a privacy-focused mail provider.
/// Libraries live in `Sources/`, thin service executables in `Services/`, SQL migrations in `Schemas/`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "palisade",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Core", targets: ["Core"]),
        .library(name: "DNS", targets: ["DNS"]),
        .library(name: "HTTPFetch", targets: ["HTTPFetch"]),
        .library(name: "OpenPGP", targets: ["OpenPGP"]),
        .library(name: "Aliases", targets: ["Aliases"]),
        .library(name: "Keystore", targets: ["Keystore"]),
        .library(name: "KeyDiscovery", targets: ["KeyDiscovery"]),
        .library(name: "WKDPublishing", targets: ["WKDPublishing"]),
        .library(name: "VKSSync", targets: ["VKSSync"]),
        .library(name: "MailPolicy", targets: ["MailPolicy"]),
        .library(name: "TransportPolicy", targets: ["TransportPolicy"]),
        .library(name: "TLSReporting", targets: ["TLSReporting"]),
        .library(name: "DomainDoctor", targets: ["DomainDoctor"]),
        .library(name: "TLSCertificates", targets: ["TLSCertificates"]),
        .library(name: "HTTPService", targets: ["HTTPService"]),
        .library(name: "AliasAPI", targets: ["AliasAPI"]),
        .executable(name: "platformctl", targets: ["platformctl"]),
        .executable(name: "palisade-aliases", targets: ["palisade-aliases"]),
        .executable(name: "palisade-keystore", targets: ["palisade-keystore"]),
        .executable(name: "palisade-wkd", targets: ["palisade-wkd"]),
        .executable(name: "palisade-vks-sync", targets: ["palisade-vks-sync"]),
        .executable(name: "palisade-transport", targets: ["palisade-transport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML", "CommandLineArguments"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already built for Hummingbird; the WKD publisher serves on it directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The WKD publisher's own HTTPS listener (certificates chosen by SNI), as Hummingbird's TLS uses.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // gzip for TLS reports (application/tlsrpt+gzip), bounded decompression over the system zlib.
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        // C libraries, reached only through the thin wrappers in Core and the later network/OpenPGP libraries.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // libunbound's pkg-config file is missing or broken on a bare Debian: linked by name in its modulemap.
        .systemLibrary(name: "CUnbound", providers: [.apt(["libunbound-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "CPalisadeShims", dependencies: ["CCurl", "COpenSSL"]),

        .target(
            name: "Core",
            dependencies: [
                "CLibPQ",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // platformctl doctor and dns records: our own domains' CAA, DNSSEC, MTA-STS, DANE, TLSRPT, DMARC and WKD.
        .target(
            name: "DomainDoctor",
            dependencies: ["Core", "DNS", "HTTPFetch", "MailPolicy"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DNS",
            dependencies: [
                "Core", "CUnbound",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPFetch",
            dependencies: [
                "Core", "DNS", "CCurl", "CPalisadeShims", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OpenPGP",
            dependencies: ["Core", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Aliases",
            dependencies: [
                "Core",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Keystore",
            dependencies: [
                "Core", "OpenPGP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Other people's keys: WKD, then the VKS; the look-up cache.
        .target(
            name: "KeyDiscovery",
            dependencies: [
                "Core", "DNS", "HTTPFetch", "OpenPGP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every service's HTTP listener shares: bearer tokens, JSON errors, /healthz and /metrics.
        .target(
            name: "HTTPService",
            dependencies: [
                "Core",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AliasAPI",
            dependencies: [
                "Core", "Aliases", "HTTPService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KeystoreAPI",
            dependencies: [
                "Core", "Keystore", "KeyDiscovery", "HTTPService", "VKSSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-keystore",
            dependencies: [
                "Core", "Keystore", "KeyDiscovery", "KeystoreAPI", "HTTPService", "DNS", "HTTPFetch", "VKSSync",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Keystore",
            swiftSettings: swiftSettings
        ),
        // The WKD publisher: entries computed by jobs, served from memory.
        .target(
            name: "WKDPublishing",
            dependencies: [
                "Core", "OpenPGP", "TLSCertificates",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTPS certificates in certbot's layout, chosen per handshake by SNI and reloaded in place (WKD, MTA-STS policy hosts).
        .target(
            name: "TLSCertificates",
            dependencies: [
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Mail transport policy: MTA-STS (and, with the transport daemon, DANE), parsed and decided.
        .target(
            name: "MailPolicy",
            dependencies: ["Core", "DNS", "HTTPFetch", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        // SMTP TLS reports (RFC 8460): parsed strictly, taken in over HTTPS or by mail, aggregated per day by jobs.
        .target(
            name: "TLSReporting",
            dependencies: [
                "Core", "DNS",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The transport-policy daemon's parts: the shared cache, refresh jobs, the socketmap listener.
        .target(
            name: "TransportPolicy",
            dependencies: [
                "Core", "MailPolicy", "TLSReporting", "DNS", "HTTPFetch", "HTTPService", "TLSCertificates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The VKS sync worker: stored keys refreshed from the validating key server.
        .target(
            name: "VKSSync",
            dependencies: [
                "Core", "OpenPGP", "Keystore", "KeyDiscovery",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-vks-sync",
            dependencies: [
                "Core", "DNS", "HTTPFetch", "HTTPService", "KeyDiscovery", "VKSSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/VKSSync",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-transport",
            dependencies: [
                "Core", "DNS", "HTTPFetch", "HTTPService", "MailPolicy", "TransportPolicy", "TLSCertificates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/TransportPolicy",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-wkd",
            dependencies: ["Core", "WKDPublishing", "TLSCertificates", .product(name: "Logging", package: "swift-log"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")],
            path: "Services/WKDPublisher",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-aliases",
            dependencies: [
                "Core", "Aliases", "AliasAPI", "HTTPService",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/AliasManager",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "platformctl",
            dependencies: [
                "Core", "DNS", "HTTPFetch", "Aliases", "Keystore", "KeyDiscovery", "WKDPublishing", "VKSSync", "MailPolicy", "TransportPolicy", "TLSReporting", "DomainDoctor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "JobQueueBenchmark",
            dependencies: [
                "Core",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/JobQueueBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "NetworkBenchmark",
            dependencies: ["DNS", "HTTPFetch", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/NetworkBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AliasBenchmark",
            dependencies: ["Aliases", "Core", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/AliasBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "KeystoreBenchmark",
            dependencies: ["Keystore", "OpenPGP", "Core", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/KeystoreBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "LookupBenchmark",
            dependencies: ["KeyDiscovery", "DNS", "HTTPFetch", "OpenPGP", "Core", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/LookupBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WKDBenchmark",
            dependencies: ["WKDPublishing", "Keystore", "OpenPGP", "Core", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/WKDBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "VKSBenchmark",
            dependencies: [
                "VKSSync", "Keystore", "KeyDiscovery", "DNS", "HTTPFetch", "OpenPGP", "Core", "CoreTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/VKSBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TransportBenchmark",
            dependencies: [
                "TransportPolicy", "MailPolicy", "Core",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/TransportBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MilterBenchmark",
            dependencies: [
                "MailPolicy", "TransportPolicy", "DNS", "Core", "CoreTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/MilterBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TLSReportBenchmark",
            dependencies: [
                "TLSReporting", "Core", "CoreTestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/TLSReportBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "OpenPGPBenchmark",
            dependencies: ["OpenPGP"],
            path: "Benchmarks/OpenPGPBenchmark",
            swiftSettings: swiftSettings
        ),
        // libFuzzer target (Fuzz/run.sh builds it with coverage instrumentation, ASan and -DFUZZING); a normal build
        // makes it a replayer of saved inputs.
        .target(
            name: "FuzzSupport",
            dependencies: ["CPalisadeShims"],
            path: "Fuzz/FuzzSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "OpenPGPFuzzer",
            dependencies: ["OpenPGP", "Core", "FuzzSupport"],
            path: "Fuzz/OpenPGPFuzzer",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "MailPolicyFuzzer",
            dependencies: ["MailPolicy", "HTTPFetch", "Core", "FuzzSupport"],
            path: "Fuzz/MailPolicyFuzzer",
            exclude: ["Seeds"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "TLSReportFuzzer",
            dependencies: ["TLSReporting", "FuzzSupport"],
            path: "Fuzz/TLSReportFuzzer",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "WKDRequestFuzzer",
            dependencies: ["WKDPublishing", "FuzzSupport"],
            path: "Fuzz/WKDRequestFuzzer",
            exclude: ["Seeds"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        ),
        .target(
            name: "CoreTestSupport",
            dependencies: [
                "Core", "DNS", "HTTPFetch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/CoreTestSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "palisade-test-worker",
            dependencies: ["Core", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestWorker",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "CoreTests",
            dependencies: [
                "Core",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CoreIntegrationTests",
            dependencies: [
                "Core", "CoreTestSupport", "palisade-test-worker", "platformctl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AliasManagerTests",
            dependencies: [
                "Core", "Aliases", "AliasAPI", "HTTPService", "CoreTestSupport", "platformctl", "palisade-aliases",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeystoreTests",
            dependencies: [
                "Core", "Keystore", "KeystoreAPI", "HTTPService", "OpenPGP", "Aliases", "CoreTestSupport", "palisade-keystore", "platformctl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeyDiscoveryTests",
            dependencies: [
                "KeyDiscovery", "Core", "DNS", "HTTPFetch", "OpenPGP", "Aliases", "Keystore", "KeystoreAPI", "HTTPService", "CoreTestSupport",
                "platformctl", "VKSSync", "WKDPublishing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WKDPublisherTests",
            dependencies: [
                "WKDPublishing", "TLSCertificates", "Core", "OpenPGP", "Aliases", "Keystore", "HTTPService", "CoreTestSupport", "platformctl", "palisade-wkd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TransportPolicyTests",
            dependencies: [
                "TransportPolicy", "MailPolicy", "TLSCertificates", "Core", "DNS", "HTTPFetch", "CoreTestSupport", "palisade-transport", "platformctl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TLSReportingTests",
            dependencies: [
                "TLSReporting", "Core", "CoreTestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MailPolicyTests",
            dependencies: ["MailPolicy", "Core"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MailAuthenticationTests",
            dependencies: [
                "MailPolicy", "Core", "DNS", "CoreTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DomainDoctorTests",
            dependencies: [
                "DomainDoctor", "MailPolicy", "Core", "DNS", "HTTPFetch", "CoreTestSupport", "platformctl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DNSTests",
            dependencies: ["DNS", "Core", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPFetchTests",
            dependencies: ["HTTPFetch", "DNS", "Core", "CoreTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OpenPGPTests",
            dependencies: ["OpenPGP", "Core", "CoreTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ShimTests", dependencies: ["CPalisadeShims", "CCurl", "COpenSSL", "CUnbound"]),
    ]
)
