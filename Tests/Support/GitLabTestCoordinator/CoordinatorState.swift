import Foundation

/// The routes of the runner API the coordinator serves, for failure injection and the log.
public enum CoordinatorRoute: String, Sendable, CaseIterable {
    case verify, register, jobRequest, jobUpdate, trace, artifacts
}

/// One request the coordinator answered.
public struct RequestRecord: Sendable {
    public var route: CoordinatorRoute
    public var method: String
    public var path: String
    public var status: Int
    public var at: Date
    /// The request's JSON body, when it had one (job requests, updates).
    public var json: [String: String]
    /// The `Content-Range` header (trace PATCHes).
    public var contentRange: String?
    /// Bytes in the request body.
    public var bodySize: Int
}

/// One `PUT /api/v4/jobs/:id` as received, with the status answered.
public struct JobUpdateRecord: Sendable {
    public var state: String
    public var failureReason: String?
    public var exitCode: Int?
    public var checksum: String?
    public var bytesize: Int?
    public var answered: Int
    public var at: Date
}

/// One uploaded artifacts archive.
public struct UploadedArtifact: Sendable {
    public var filename: String
    public var bytes: [UInt8]
    public var format: String?
    public var type: String?
    public var expireIn: String?
}

/// A scripted failure: the next `count` requests to `route` get `status`.
struct Injection: Sendable {
    var route: CoordinatorRoute
    var count: Int
    var status: Int
    var retryAfter: String?
}

/// A job the coordinator handed out (or will).
struct JobRecord: Sendable {
    var id: Int
    var token: String
    var json: [UInt8]
    /// GitLab's job status: pending, running, canceling, canceled, success, failed.
    var status = "pending"
    var trace: [UInt8] = []
    var updates: [JobUpdateRecord] = []
    var artifacts: [UploadedArtifact] = []
    var acceptLater = 0
    var cancelingAnswersLeft = 0
    var dropNextChunk = false
    var garbleNextChunk = false
    var patchCount = 0
}

/// Everything the coordinator knows, behind one lock.
struct CoordinatorState: Sendable {
    var runnerTokens: Set<String>
    var registrationToken: String
    var queue: [Int] = []
    var jobs: [Int: JobRecord] = [:]
    var lastUpdate = 1
    var injections: [Injection] = []
    var requests: [RequestRecord] = []
    var traceUpdateInterval = 0
    var nextRunnerID = 100
    var maxArtifactSize = 64 * 1024 * 1024

    /// Answers the status of the job for the `Job-Status` header, moving canceling → canceled
    /// after the scripted number of answers.
    mutating func reportStatus(_ id: Int) -> String {
        guard var job = jobs[id] else { return "unknown" }
        defer { jobs[id] = job }
        if job.status == "canceling" {
            if job.cancelingAnswersLeft > 0 {
                job.cancelingAnswersLeft -= 1
            } else {
                job.status = "canceled"
            }
        }
        return job.status
    }

    mutating func takeInjection(_ route: CoordinatorRoute) -> Injection? {
        guard let index = injections.firstIndex(where: { $0.route == route && $0.count > 0 }) else { return nil }
        injections[index].count -= 1
        let injection = injections[index]
        if injection.count == 0 { injections.remove(at: index) }
        return injection
    }
}
