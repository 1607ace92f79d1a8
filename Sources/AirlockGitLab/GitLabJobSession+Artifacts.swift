import Foundation
import NIOHTTP1

extension GitLabJobSession {
    /// Uploads an artifacts archive: `POST /api/v4/jobs/:id/artifacts`, multipart/form-data
    /// field `file`, with `artifact_format`, `artifact_type` and `expire_in` as query parameters.
    ///
    /// The archive is read into memory (not streamed); the upload may take up to 30 minutes. Throws `GitLabError.http(413…)` naming the archive when
    /// GitLab finds it too large, `.forbidden` when the job token no longer works.
    public func uploadArtifacts(
        zipPath: String, name: String, format: String = "zip", type: String = "archive",
        expireIn: String? = nil
    ) async throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: zipPath)))
        } catch {
            throw GitLabError.malformed("cannot read artifacts archive \(zipPath): \(error)")
        }
        var query = [("artifact_format", format), ("artifact_type", type)]
        if let expireIn, !expireIn.isEmpty { query.append(("expire_in", expireIn)) }
        let queryString = query.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        let boundary = "airlock-\(UUID().uuidString)"
        var body = Array("--\(boundary)\r\n".utf8)
        let filename = name.replacingOccurrences(of: "\"", with: "_")
        body += Array("Content-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n".utf8)
        body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "JOB-TOKEN", value: payload.token)
        headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        let reply = try await client.send(
            .POST, "/api/v4/jobs/\(payload.id)/artifacts?\(queryString)", headers: headers, body: body,
            timeout: max(client.requestTimeout, .minutes(30)))
        observe(reply)
        switch reply.status {
        case 200, 201:
            logger.info("uploaded artifacts \(name) (\(bytes.count) bytes)")
        case 413:
            throw GitLabError.http(
                status: 413,
                body: "artifacts archive \(name) (\(bytes.count) bytes) is too large for GitLab at "
                    + "\(client.host)\n  fix: narrow the job's artifacts paths, or raise the maximum "
                    + "artifacts size in GitLab's CI/CD settings")
        case 403:
            throw GitLabError.forbidden(
                "GitLab at \(client.host) refused the artifacts of job \(payload.id) (403): the job "
                    + "token is no longer valid (job canceled or finished)")
        default:
            throw reply.unexpected
        }
    }

    static func percentEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
