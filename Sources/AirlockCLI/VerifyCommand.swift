import AirlockCore
import AirlockJob
import AirlockProvenance
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock verify`: check provenance and artifacts against a public key.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify signed provenance and that artifacts are its subjects.",
        discussion: """
            Checks the DSSE signature against --key, that the payload is an in-toto Statement v1 \
            with an SLSA Provenance v1 predicate, the builder id (with --builder-id), and that each \
            ARTIFACT's SHA-256 is one of the statement's subjects. Exit 0 when everything holds, 1 \
            when verification fails (the reason is printed), 2 for unusable input.
            """)

    @Option(help: "The provenance file (.intoto.jsonl).")
    var provenance: String

    @Option(help: "The signer's public key (PEM); repeat to accept several.")
    var key: [String]

    @Option(name: .customLong("builder-id"), help: "Require this builder id.")
    var builderID: String?

    @Argument(help: "Artifacts whose digests must be subjects.")
    var artifacts: [String] = []

    func run() throws {
        let code: Int32
        do {
            code = try verify()
        } catch {
            code = report(error)
        }
        throw ExitCode(code)
    }

    func verify() throws -> Int32 {
        guard !key.isEmpty else {
            throw AirlockError(
                .usage, "no --key given",
                hint: "pass the signer's public key, e.g. --key \"$(airlock keys public)\" saved to a file")
        }
        let keys = try key.map { try KeyFiles.loadPublic(path: $0) }
        guard let data = FileManager.default.contents(atPath: provenance) else {
            throw AirlockError(
                .missingFile, "cannot read the provenance file '\(provenance)'",
                hint: "`airlock run` writes <out>/<job>.intoto.jsonl")
        }
        var digests: [(path: String, sha256: String)] = []
        for a in artifacts {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: a, isDirectory: &isDir), !isDir.boolValue else {
                throw AirlockError(.missingFile, "artifact '\(a)' does not exist or is not a file")
            }
            digests.append((a, try FileHasher.digest(fileAt: a).sha256))
        }
        let result = ProvenanceVerifier.verify(
            envelopeText: String(decoding: data, as: UTF8.self), keys: keys, builderID: builderID, artifacts: digests)
        switch result {
        case .verified(_, let subjects):
            print(
                "verified: \(provenance) is signed by \(keys.map(\.keyID).joined(separator: " or "))"
                    + (builderID.map { " for builder \($0)" } ?? ""))
            for artifact in digests {
                let name = subjects.first { $0.value == artifact.sha256 }?.key ?? "?"
                print("  \(artifact.path): sha256:\(artifact.sha256) = subject '\(name)'")
            }
            return 0
        case .failed(let why):
            FileHandle.standardError.write(Data("airlock: verification failed: \(why)\n".utf8))
            return 1
        }
    }
}
