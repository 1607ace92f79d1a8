// swift-tools-version:6.0
// Airlock — a sandboxed, ephemeral build runner for Linux.
//
// Layers, lowest first; dependencies point one way (down). Layers.txt is the table of allowed
// edges and `make lint` (scripts/check-layers) fails on an import or a dependency it does not
// allow. See also README "Architecture" (its module table).
//   c             : CSeccomp (libseccomp), CAirlockShims (small C), airlock-helper (C executable)
//   core          : AirlockCore          — AirlockError, the job model, YAML; pure, testable as any user
//   os            : AirlockOS            — the only Swift module that imports the C targets: seccomp,
//                                          cgroups, the helper, the fd-confined file module, PrivateFile
//   domain        : AirlockProfile (pure), AirlockProvenance, AirlockSecrets — the last two keep
//                   private state files (keys, the store, the lease journal) through AirlockOS
//   adapters      : AirlockVault (OpenBao), AirlockGitLab (GitLab's runner API) — over HTTP
//   runtime       : AirlockSandbox       — launch plan → running, supervised, torn-down sandbox;
//                                          no secrets, no provenance
//   job           : AirlockJob           — the JobPipeline and its stages
//   orchestration : AirlockAgent         — job sources, concurrency, journal, metrics
//   cli           : AirlockCLI, airlock  — one command type per verb; no AirlockOS
//   tools         : airlock-bench        — `make bench`
//   test support  : GitLabTestCoordinator, AirlockTestSupport (Tests/Support)
import PackageDescription

let package = Package(
    name: "Airlock",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "airlock", targets: ["airlock"]),
        .executable(name: "airlock-helper", targets: ["airlock-helper"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // ── C boundary ────────────────────────────────────────────────────────
        .systemLibrary(
            name: "CSeccomp", pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]),
        .target(name: "CAirlockShims"),
        // The single-threaded launcher that does all namespace work. Plain C, no Swift runtime
        // between fork and exec. `make helper` also builds it with cc (faster start-up).
        .executableTarget(name: "airlock-helper"),

        // ── OS ────────────────────────────────────────────────────────────────
        .target(
            name: "AirlockOS",
            dependencies: ["CSeccomp", "CAirlockShims", "AirlockCore"]),

        // ── core and domain ───────────────────────────────────────────────────
        .target(
            name: "AirlockCore",
            dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "AirlockProfile",
            dependencies: ["AirlockCore", .product(name: "Yams", package: "Yams")]),
        // in-toto statements, SLSA provenance, DSSE signing, SPDX SBOMs, verification.
        .target(
            name: "AirlockProvenance",
            dependencies: ["AirlockCore", "AirlockOS", .product(name: "Crypto", package: "swift-crypto")]),

        // Secrets: job syntax, brokers, the embedded encrypted store, leases, masking.
        .target(
            name: "AirlockSecrets",
            dependencies: ["AirlockCore", "AirlockOS", .product(name: "Crypto", package: "swift-crypto")]),
        // ── adapters ──────────────────────────────────────────────────────────
        // The OpenBao / Vault broker, over AsyncHTTPClient.
        .target(
            name: "AirlockVault",
            dependencies: [
                "AirlockSecrets", "AirlockCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),

        // The GitLab runner protocol: job requests, trace streaming, job updates, artifacts.
        // Knows nothing of sandboxes; the agent wires it to the executor.
        .target(
            name: "AirlockGitLab",
            dependencies: [
                "AirlockCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // ── launch runtime ────────────────────────────────────────────────────
        // A resolved launch plan → a running, supervised, torn-down sandbox. No secrets, no
        // provenance: those belong to the job layer.
        .target(
            name: "AirlockSandbox",
            dependencies: [
                "AirlockOS", "AirlockCore", "AirlockProfile",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // ── job ───────────────────────────────────────────────────────────────
        // The JobPipeline and its stages: materials, secret delivery, step scheduler, outputs,
        // attestation, teardown.
        .target(
            name: "AirlockJob",
            dependencies: [
                "AirlockSandbox", "AirlockOS", "AirlockCore", "AirlockProfile", "AirlockProvenance", "AirlockSecrets",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // ── orchestration ─────────────────────────────────────────────────────
        // The long-running runner agent: job sources (spool, GitLab), concurrency, in-flight
        // journal and crash recovery, metrics.
        .target(
            name: "AirlockAgent",
            dependencies: [
                "AirlockJob", "AirlockSandbox", "AirlockOS", "AirlockCore", "AirlockProfile", "AirlockProvenance",
                "AirlockSecrets", "AirlockGitLab",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),

        // ── CLI ───────────────────────────────────────────────────────────────
        .target(
            name: "AirlockCLI",
            dependencies: [
                "AirlockJob", "AirlockSandbox", "AirlockCore", "AirlockProfile", "AirlockProvenance", "AirlockSecrets",
                "AirlockVault", "AirlockAgent", "AirlockGitLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "airlock", dependencies: ["AirlockCLI"]),
        // `make bench`: start-up against bubblewrap, seccomp overhead.
        .executableTarget(
            name: "airlock-bench",
            dependencies: [
                "AirlockJob", "AirlockSandbox", "AirlockProfile", "AirlockOS", "AirlockCore", "AirlockSecrets",
                "AirlockVault",
            ],
            // A top-level benchmark script that line-buffers C's `stdout` (a global var the
            // Swift 6 checker cannot prove safe); everything it drives is Swift 6.
            swiftSettings: [.swiftLanguageMode(.v5)]),

        // ── tests ─────────────────────────────────────────────────────────────
        // A scriptable GitLab coordinator on loopback (a test double: no GitLab server runs here).
        .target(
            name: "GitLabTestCoordinator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support/GitLabTestCoordinator"),
        // What the sandbox and agent integration tests share: driving the real `airlock` binary,
        // per-test state directories, the host leftover checks, and `.hostExclusive`.
        .target(name: "AirlockTestSupport", path: "Tests/Support/AirlockTestSupport"),
        .testTarget(
            name: "AirlockGitLabTests",
            dependencies: [
                "AirlockGitLab", "GitLabTestCoordinator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(name: "AirlockCoreTests", dependencies: ["AirlockCore"]),
        // Checks of the repository itself: scripts/check-layers against the real tree and planted faults.
        .testTarget(name: "RepoChecksTests"),
        .testTarget(name: "AirlockProfileTests", dependencies: ["AirlockProfile", "AirlockCore"]),
        .testTarget(name: "AirlockOSTests", dependencies: ["AirlockOS"]),
        .testTarget(
            name: "AirlockJobTests", dependencies: ["AirlockJob", "AirlockSandbox", "AirlockProfile", "AirlockCore"]),
        .testTarget(name: "AirlockSecretsTests", dependencies: ["AirlockSecrets", "AirlockCore"]),
        .testTarget(name: "AirlockVaultTests", dependencies: ["AirlockVault", "AirlockSecrets", "AirlockCore"]),
        .testTarget(
            name: "AirlockProvenanceTests", dependencies: ["AirlockProvenance", "AirlockCore"],
            exclude: ["verify_dsse.py"]),
        .testTarget(
            name: "AirlockAgentTests",
            dependencies: [
                "AirlockAgent", "AirlockJob", "AirlockSandbox", "AirlockCore", "AirlockCLI", "AirlockGitLab",
                "AirlockProvenance", "GitLabTestCoordinator", "AirlockTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "AirlockSandboxTests",
            dependencies: [
                "AirlockSandbox", "AirlockJob", "AirlockCLI", "AirlockOS", "AirlockProfile", "AirlockCore",
                "AirlockProvenance", "AirlockSecrets", "AirlockTestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
