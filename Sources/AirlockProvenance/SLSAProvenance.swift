import AirlockCore

/// Builds the in-toto Statement v1 with an SLSA Provenance v1 predicate for one job run.
///
/// The output is a pure function of the `BuildRecord`: the same record always yields the same
/// bytes. Optional fields that are empty are omitted, never written as `null`. Secret values are
/// never part of a record, so they cannot reach the statement; secret names are listed under
/// `internalParameters.secretNames`.
public enum ProvenanceBuilder {
    /// The SLSA predicate type.
    public static let predicateType = "https://slsa.dev/provenance/v1"

    /// The SLSA build type describing how Airlock runs a job: `externalParameters` holds the job
    /// as submitted and its source; `internalParameters` the profile, seccomp filter and limits.
    public static let buildType = "urn:airlock:buildtype:job:v1"

    /// Media type of the SBOM byproduct.
    public static let sbomMediaType = "application/spdx+json"

    /// The statement as a JSON value.
    public static func statement(_ record: BuildRecord) -> JSONValue {
        InTotoStatement.statement(subjects: record.outputs, predicateType: predicateType, predicate: predicate(record))
    }

    /// The DSSE payload: canonical JSON (sorted keys, no whitespace) of `statement(record)`.
    public static func payload(_ record: BuildRecord) -> [UInt8] {
        Array(statement(record).rendered().utf8)
    }

    /// The SLSA v1 predicate.
    static func predicate(_ r: BuildRecord) -> JSONValue {
        .object([
            "buildDefinition": buildDefinition(r),
            "runDetails": runDetails(r),
        ])
    }

    static func buildDefinition(_ r: BuildRecord) -> JSONValue {
        var external: [String: JSONValue] = ["job": r.job]
        if let source = r.source {
            var s: [String: JSONValue] = ["repository": .string(source.repository)]
            if let ref = source.ref, !ref.isEmpty { s["ref"] = .string(ref) }
            if let commit = source.commit, !commit.isEmpty { s["commit"] = .string(commit) }
            external["source"] = .object(s)
        }

        var internalParameters: [String: JSONValue] = [
            "profile": .object([
                "name": .string(r.profileName), "digest": .object(["sha256": .string(r.profileDigest)]),
            ]),
            "seccompDigest": .object(["sha256": .string(r.seccompDigest)]),
            "limits": r.limits,
            "runnerVersion": .string(r.runnerVersion),
        ]
        let secrets = Array(Set(r.secretNames)).sorted()
        if !secrets.isEmpty { internalParameters["secretNames"] = .array(secrets.map { .string($0) }) }

        var definition: [String: JSONValue] = [
            "buildType": .string(buildType),
            "externalParameters": .object(external),
            "internalParameters": .object(internalParameters),
        ]
        let dependencies = resolvedDependencies(r)
        if !dependencies.isEmpty { definition["resolvedDependencies"] = .array(dependencies) }
        return .object(definition)
    }

    /// Source commit first, then inputs (by name), then toolchain components (by name).
    static func resolvedDependencies(_ r: BuildRecord) -> [JSONValue] {
        var out: [JSONValue] = []
        if let source = r.source, let commit = source.commit, !commit.isEmpty {
            var uri = source.repository.hasPrefix("git+") ? source.repository : "git+" + source.repository
            if let ref = source.ref, !ref.isEmpty { uri += "@" + ref }
            out.append(.object(["uri": .string(uri), "digest": .object(["gitCommit": .string(commit.lowercased())])]))
        }
        out += r.inputs.sorted { $0.name < $1.name }.map { InTotoStatement.resourceDescriptor($0) }
        for component in r.toolchain.sorted(by: { $0.name < $1.name }) {
            var members: [String: JSONValue] = ["name": .string(component.name)]
            if let uri = component.uri, !uri.isEmpty { members["uri"] = .string(uri) }
            if !component.digest.isEmpty {
                members["digest"] = .object(component.digest.mapValues { .string($0.lowercased()) })
            }
            var annotations: [String: JSONValue] = [:]
            if let version = component.version, !version.isEmpty { annotations["version"] = .string(version) }
            if !component.packages.isEmpty {
                let sorted = component.packages.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
                annotations["packages"] = .array(
                    sorted.map { .object(["name": .string($0.name), "version": .string($0.version)]) })
            }
            if !annotations.isEmpty { members["annotations"] = .object(annotations) }
            out.append(.object(members))
        }
        return out
    }

    static func runDetails(_ r: BuildRecord) -> JSONValue {
        var byproducts: [JSONValue] = [
            InTotoStatement.resourceDescriptor(
                r.log, annotations: ["exitCode": .int(Int64(r.exitCode)), "resourceUsage": r.resourceUsage])
        ]
        if let sbom = r.sbom {
            byproducts.append(
                .object([
                    "name": .string(sbom.name),
                    "digest": .object(["sha256": .string(sbom.sha256.lowercased())]),
                    "mediaType": .string(sbomMediaType),
                ]))
        }
        return .object([
            "builder": .object([
                "id": .string(r.builderID),
                "version": .object(["airlock": .string(r.runnerVersion)]),
            ]),
            "metadata": .object([
                "invocationId": .string(r.invocationID),
                "startedOn": .string(RFC3339.string(from: r.startedOn)),
                "finishedOn": .string(RFC3339.string(from: r.finishedOn)),
            ]),
            "byproducts": .array(byproducts),
        ])
    }
}
