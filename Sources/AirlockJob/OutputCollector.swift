import AirlockCore
import AirlockOS
import AirlockSecrets
import Foundation

/// Copies a finished job's declared outputs out of its workspace, safely.
///
/// The job is dead by now, but it chose the workspace's contents and its names. Everything goes
/// through descriptors (`ConfinedDirectory`, `ConfinedGlob`, `TreeCopier`): patterns are matched
/// on the names that exist, never on path text; nothing is followed on either side; a symlink is
/// recreated only when its target stays inside the workspace; a name with a control character, a
/// secret's value or a name the runner reserves fails the job, and the message names the output
/// by its index, never by the offending name.
public struct OutputCollector: Sendable {
    /// Names in the out dir that belong to the runner (the log, envelope, SBOM, …).
    var reserved: Set<String> = []
    /// Values that must not appear in any output's path (the job's secrets).
    var forbidden: [SecretValue] = []
    /// The most data bytes all outputs together may hold.
    var byteLimit: UInt64 = .max
    /// `CLOCK_MONOTONIC` seconds after which collection stops (the job's deadline).
    var deadline: Double?
    var jobFile: String

    public init(
        reserved: Set<String> = [], forbidden: [SecretValue] = [], byteLimit: UInt64 = .max, deadline: Double? = nil,
        jobFile: String
    ) {
        self.reserved = reserved
        self.forbidden = forbidden
        self.byteLimit = byteLimit
        self.deadline = deadline
        self.jobFile = jobFile
    }

    /// Copy every match of `patterns` from `workspace` into `outDir`; the relative paths copied.
    public func collect(patterns: [String], workspace: String, to outDir: String) throws -> [String] {
        let ws = try ConfinedDirectory.open(workspace)
        let out = try ConfinedDirectory.open(outDir)
        let copier = TreeCopier()
        copier.byteLimit = byteLimit
        copier.deadline = deadline
        var copied: [[String]] = []
        for (index, pattern) in patterns.enumerated() {
            let label = "output #\(index + 1) ('\(pattern)')"
            let matches = try match(pattern, in: ws, label: label)
            if matches.isEmpty {
                throw AirlockError(
                    .outputMissing,
                    "\(jobFile): output '\(pattern)' was not produced (nothing in /workspace matches it)",
                    hint: "check the step that should create it, or fix the path in `outputs`")
            }
            copier.check = { rel in try self.checkName(rel, label: label) }
            copier.symlinkPolicy = { rel, target in try self.checkSymlink(rel, target: target, label: label) }
            for m in matches where !copied.contains(where: { m.starts(with: $0) }) {
                guard try Self.isCopyable(m, in: ws) else { continue }  // fifos, sockets, devices
                try checkName(m.joined(separator: "/"), label: label)
                if m.count == 1 && reserved.contains(m[0]) {
                    throw AirlockError(
                        .outputReserved,
                        "\(jobFile): \(label) would replace the runner's own '\(m[0])' in the out dir",
                        hint: "rename that output, or collect it from a subdirectory")
                }
                try copy(m, from: ws, to: out, with: copier, label: label)
                copied.append(m)
            }
        }
        return copied.map { $0.joined(separator: "/") }.sorted()
    }

    private func match(_ pattern: String, in ws: ConfinedDirectory, label: String) throws -> [[String]] {
        do { return try ConfinedGlob.match(pattern, in: ws) } catch ConfinedGlob.Failure.throughSymlink(let link) {
            throw AirlockError(
                .outputEscape,
                "\(jobFile): \(label) passes through a symlink in the workspace; refusing to follow it"
                    + (isPrintable(link) ? " ('\(link)')" : ""),
                hint: "outputs must name the real path of what the job wrote, not a path through a symlink")
        } catch ConfinedGlob.Failure.invalid(let why) {
            throw AirlockError(
                .outputEscape, "\(jobFile): \(label) cannot be collected: \(why)",
                hint: "outputs are relative paths inside /workspace")
        }
    }

    /// Copy one match: its parent directories are made in the out dir (same modes as in the
    /// workspace), then the entry itself.
    private func copy(
        _ m: [String], from ws: ConfinedDirectory, to out: ConfinedDirectory, with copier: TreeCopier, label: String
    ) throws {
        do {
            var src = ws
            var dst = out
            for name in m.dropLast() {
                let mode = (try src.status(name)?.st_mode ?? 0o755) & 0o777
                src = try src.openDirectory(name)
                try dst.makeDirectory(name, mode: mode | 0o700, existingOK: true)
                dst = try dst.openDirectory(name)
                _ = fchmod(dst.fd.raw, mode)
            }
            try copier.copy(m.last!, from: src, to: dst, as: m.last!, relative: m.joined(separator: "/"))
        } catch let r as TreeCopier.Refusal {
            throw refusal(r, label: label)
        } catch let e as OSError {
            throw AirlockError(
                .outputCopy, "\(jobFile): \(label) could not be copied: \(e.call) failed (\(e.errnoName))",
                hint: e.errno == ELOOP || e.errno == ENOTDIR || e.errno == EEXIST
                    ? "two outputs overlap through a symlink or a file; collect each path once"
                    : "check the free space and permissions of the out dir")
        }
    }

    /// Regular files, directories and symlinks are collected; anything else is passed over.
    static func isCopyable(_ m: [String], in ws: ConfinedDirectory) throws -> Bool {
        var dir = ws
        for name in m.dropLast() { dir = try dir.openDirectory(name) }
        guard let st = try dir.status(m.last!) else { return false }
        let kind = st.st_mode & S_IFMT
        return kind == S_IFREG || kind == S_IFDIR || kind == S_IFLNK
    }

    private func refusal(_ r: TreeCopier.Refusal, label: String) -> AirlockError {
        switch r {
        case .tooDeep(_, let limit):
            return AirlockError(
                .outputTooDeep, "\(jobFile): \(label) is nested deeper than \(limit) directories",
                hint: "archive deep trees (tar) inside the job and collect the archive")
        case .tooLarge(_, let limit):
            return AirlockError(
                .outputTooLarge,
                "\(jobFile): the outputs hold more than \(ByteSize.format(limit)) of data (the workspace limit); \(label) was not collected",
                hint: "collect fewer or smaller outputs, or raise resources.workspace")
        case .deadline:
            return AirlockError(
                .jobTimeout, "\(jobFile): the job's timeout ran out while collecting \(label)",
                hint: "raise the job's timeout or collect less")
        }
    }

    /// Names are data: no control characters, no secret values, and the message never says which.
    func checkName(_ relative: String, label: String) throws {
        let bytes = Array(relative.utf8)
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw AirlockError(
                .outputName,
                "\(jobFile): \(label) contains a file name with a control character (newline, escape, …); refusing it",
                hint: "outputs must have printable names")
        }
        for secret in forbidden where secret.count > 0 {
            let hit = secret.withBytes { bytes.firstRange(of: $0) != nil }
            if hit {
                throw AirlockError(
                    .outputSecret,
                    "\(jobFile): \(label) contains a file whose name includes the value of a secret; refusing it",
                    hint: "never put secret values in file names")
            }
        }
    }

    /// A symlink is kept when its target, resolved from where it sits, stays inside the workspace.
    func checkSymlink(_ relative: String, target: String, label: String) throws -> Bool {
        var depth = relative.split(separator: "/").count - 1
        if target.hasPrefix("/") { depth = -1 }
        for c in target.split(separator: "/") where depth >= 0 {
            if c == ".." { depth -= 1 } else if c != "." { depth += 1 }
        }
        guard depth >= 0 else {
            throw AirlockError(
                .outputEscape,
                "\(jobFile): \(label) holds a symlink that points outside the workspace; refusing to copy it",
                hint: "outputs may hold only symlinks with relative targets inside /workspace")
        }
        try checkName(target, label: label)
        return true
    }

    private func isPrintable(_ s: String) -> Bool {
        !s.utf8.contains { $0 < 0x20 || $0 == 0x7F }
            && !forbidden.contains { v in
                v.withBytes { Array(s.utf8).firstRange(of: $0) != nil }
            }
    }
}
