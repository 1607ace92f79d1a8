import AirlockCore
import AirlockJob
import AirlockOS
import AirlockSandbox
import Foundation
import ZIPFoundation

/// The artifacts archive of a GitLab job: the outputs at their paths, plus the signed
/// provenance envelope and the SBOM at the top level.
enum ArtifactArchive {
    static func make(outDir: String, outputs: [String], attestation: AttestationFiles?, at zipPath: String) throws
        -> String
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
        // Staged by descriptor from the out dir (which only the runner wrote), never following
        // a symlink: the archive holds exactly what was collected.
        let source = try ConfinedDirectory.open(outDir)
        let target = try ConfinedDirectory.open(staging)
        let copier = TreeCopier()
        for f in files {
            let parts = f.split(separator: "/").map(String.init)
            guard let last = parts.last else { continue }
            var src = source
            for c in parts.dropLast() { src = try src.openDirectory(c) }
            let dst = try target.makeDirectories(Array(parts.dropLast()))
            try copier.copy(last, from: src, to: dst, as: last, relative: f)
        }
        try? fm.removeItem(atPath: zipPath)
        do {
            try fm.zipItem(
                at: URL(fileURLWithPath: staging), to: URL(fileURLWithPath: zipPath), shouldKeepParent: false,
                compressionMethod: .deflate)
        } catch {
            throw AirlockError(
                .gitlabArtifacts, "cannot build the artifacts archive \(zipPath): \(error)",
                hint: "check free space in the agent's state directory")
        }
        return zipPath
    }
}
