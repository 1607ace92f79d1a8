import AirlockCore
import AirlockSandbox
import Foundation
import ZIPFoundation

/// The artifacts archive of a GitLab job: the outputs at their paths, plus the signed
/// provenance envelope and the SBOM at the top level.
enum ArtifactArchive {
    static func make(outDir: String, outputs: [String], attestation: Attestation?, at zipPath: String) throws -> String
    {
        let fm = FileManager.default
        let staging = zipPath + ".d"
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: staging) }
        var files = outputs
        if let a = attestation {
            files += [a.provenancePath, a.sbomPath].map { ($0 as NSString).lastPathComponent }
        }
        for f in files {
            let dest = staging + "/" + f
            try fm.createDirectory(
                atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.copyItem(atPath: outDir + "/" + f, toPath: dest)
        }
        try? fm.removeItem(atPath: zipPath)
        do {
            try fm.zipItem(
                at: URL(fileURLWithPath: staging), to: URL(fileURLWithPath: zipPath), shouldKeepParent: false,
                compressionMethod: .deflate)
        } catch {
            throw AirlockError(.init("gitlab.artifacts"), "cannot build the artifacts archive \(zipPath): \(error)")
        }
        return zipPath
    }
}
