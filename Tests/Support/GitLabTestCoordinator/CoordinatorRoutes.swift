import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// An answer before it becomes a Hummingbird `Response`.
struct Answer {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []

    var response: Response {
        var fields = HTTPFields()
        for (name, value) in headers { fields[.init(name)!] = value }
        return Response(
            status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The coordinator's request handlers: GitLab's runner API as documented.
struct CoordinatorRoutes: Sendable {
    let state: NIOLockedValueBox<CoordinatorState>
    let options: TestCoordinator.Options

    func register(on router: Router<BasicRequestContext>) {
        router.post("/api/v4/runners/verify") { request, context in try await serve(.verify, request, context) }
        router.post("/api/v4/runners") { request, context in try await serve(.register, request, context) }
        router.post("/api/v4/jobs/request") { request, context in try await serve(.jobRequest, request, context) }
        router.put("/api/v4/jobs/:id") { request, context in try await serve(.jobUpdate, request, context) }
        router.patch("/api/v4/jobs/:id/trace") { request, context in try await serve(.trace, request, context) }
        router.post("/api/v4/jobs/:id/artifacts") { request, context in
            try await serve(.artifacts, request, context)
        }
    }

    private func serve(_ route: CoordinatorRoute, _ request: Request, _ context: BasicRequestContext) async throws
        -> Response
    {
        let body = Array(try await request.body.collect(upTo: 512 << 20).readableBytesView)
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        let id = context.parameters.get("id", as: Int.self) ?? 0
        let answer: Answer
        if let injection = state.withLockedValue({ $0.takeInjection(route) }) {
            var headers: [(String, String)] = []
            if let retryAfter = injection.retryAfter { headers.append(("Retry-After", retryAfter)) }
            answer = Answer(status: injection.status, headers: headers, body: Array("injected failure".utf8))
        } else {
            switch route {
            case .verify: answer = verify(json)
            case .register: answer = register(json)
            case .jobRequest: answer = await jobRequest(json)
            case .jobUpdate: answer = update(id: id, json)
            case .trace: answer = patchTrace(id: id, request, body)
            case .artifacts: answer = upload(id: id, request, body)
            }
        }
        let strings = json.compactMapValues { value -> String? in
            if let text = value as? String { return text }
            if let number = value as? NSNumber { return number.stringValue }
            return nil
        }
        let record = RequestRecord(
            route: route, method: request.method.rawValue, path: request.uri.path, status: answer.status,
            at: Date(), json: strings, contentRange: request.headers[.init("Content-Range")!],
            bodySize: body.count)
        state.withLockedValue { $0.requests.append(record) }
        return answer.response
    }

    private func verify(_ json: [String: Any]) -> Answer {
        let token = json["token"] as? String ?? ""
        guard state.withLockedValue({ $0.runnerTokens.contains(token) }) else { return Answer(status: 403) }
        return Answer(status: 200, body: Array(#"{"id":7,"token":"\#(token)","token_expires_at":null}"#.utf8))
    }

    private func register(_ json: [String: Any]) -> Answer {
        let token = json["token"] as? String ?? ""
        return state.withLockedValue { s in
            guard token == s.registrationToken else { return Answer(status: 403) }
            s.nextRunnerID += 1
            let runnerToken = "glrt-registered-\(s.nextRunnerID)"
            s.runnerTokens.insert(runnerToken)
            return Answer(
                status: 201,
                body: Array(#"{"id":\#(s.nextRunnerID),"token":"\#(runnerToken)","token_expires_at":null}"#.utf8))
        }
    }

    /// Long poll: a queued job at once (201); else hold while `last_update` is current.
    private func jobRequest(_ json: [String: Any]) async -> Answer {
        let token = json["token"] as? String ?? ""
        let requested = json["last_update"] as? String
        let features = (json["info"] as? [String: Any])?["features"] as? [String: Any]
        // Two-phase job commit: the job stays pending until the runner PUTs state=running.
        let twoPhase = features?["two_phase_job_commit"] as? Bool ?? false
        let deadline = Date().addingTimeInterval(options.longPoll)
        while true {
            let step: Answer? = state.withLockedValue { s in
                guard s.runnerTokens.contains(token) else { return Answer(status: 403) }
                if !s.queue.isEmpty, let job = s.jobs[s.queue.removeFirst()] {
                    s.lastUpdate += 1
                    s.jobs[job.id]?.status = twoPhase ? "pending" : "running"
                    return Answer(status: 201, headers: [("Content-Type", "application/json")], body: job.json)
                }
                let current = String(s.lastUpdate)
                if requested != current || Date() >= deadline {
                    return Answer(status: 204, headers: [("X-GitLab-Last-Update", current)])
                }
                return nil
            }
            if let step { return step }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    private func update(id: Int, _ json: [String: Any]) -> Answer {
        state.withLockedValue { s in
            guard var job = s.jobs[id] else { return Answer(status: 404) }
            guard json["token"] as? String == job.token else { return Answer(status: 403) }
            let interval = String(s.traceUpdateInterval)
            guard ["pending", "running", "canceling"].contains(job.status) else {
                return Answer(status: 403, headers: [("Job-Status", job.status)])
            }
            let requestedState = json["state"] as? String ?? ""
            let output = json["output"] as? [String: Any]
            let checksum = output?["checksum"] as? String
            let bytesize = output?["bytesize"] as? Int
            var status = 200
            switch requestedState {
            case "pending" where job.status != "pending":
                // A keep-alive for a job already running (legacy workflow): GitLab answers 400.
                return Answer(status: 400, body: Array("job is not pending".utf8))
            case "pending", "running":
                if job.status != "canceling" { job.status = requestedState }
            case "success", "failed":
                if job.acceptLater > 0 {
                    job.acceptLater -= 1
                    status = 202
                } else if checksum.map({ $0 != referenceChecksum(job.trace) }) ?? false
                    || bytesize.map({ $0 != job.trace.count }) ?? false
                {
                    job.trace = []  // GitLab resets its copy and asks for the whole trace again
                    status = 412
                } else {
                    job.status = job.status == "canceling" ? "canceled" : requestedState
                }
            default:
                return Answer(status: 400, body: Array("state is invalid".utf8))
            }
            job.updates.append(
                JobUpdateRecord(
                    state: requestedState, failureReason: json["failure_reason"] as? String,
                    exitCode: json["exit_code"] as? Int, checksum: checksum, bytesize: bytesize, answered: status,
                    at: Date()))
            s.jobs[id] = job
            let reported = s.reportStatus(id)
            return Answer(
                status: status, headers: [("Job-Status", reported), ("X-GitLab-Trace-Update-Interval", interval)],
                body: Array(String(status).utf8))
        }
    }

    private func patchTrace(id: Int, _ request: Request, _ body: [UInt8]) -> Answer {
        let token = request.headers[.init("JOB-TOKEN")!] ?? request.uri.queryParameters.get("token")
        let contentRange = request.headers[.init("Content-Range")!]
        return state.withLockedValue { s in
            guard var job = s.jobs[id] else { return Answer(status: 404) }
            guard token == job.token else { return Answer(status: 403) }
            job.patchCount += 1
            defer { s.jobs[id] = job }
            guard ["running", "canceling"].contains(job.status) else {  // pending: not committed yet
                return Answer(status: 403, headers: [("Job-Status", job.status)])
            }
            guard let contentRange else { return Answer(status: 400, body: Array("Missing header Content-Range".utf8)) }
            let parts = contentRange.split(separator: "-").compactMap { Int($0) }
            let size = job.trace.count
            let refused = Answer(status: 416, headers: [("Range", "0-\(size)")])
            guard parts.count == 2, parts[0] == size, body.isEmpty || parts[1] == parts[0] + body.count - 1 else {
                return refused
            }
            var headers = [("X-GitLab-Trace-Update-Interval", String(s.traceUpdateInterval))]
            if job.dropNextChunk {
                job.dropNextChunk = false
            } else {
                var chunk = body
                if job.garbleNextChunk, !chunk.isEmpty {
                    job.garbleNextChunk = false
                    chunk[0] ^= 0x20
                }
                job.trace += chunk
                headers.append(("Range", "0-\(job.trace.count)"))
            }
            s.jobs[id] = job
            headers.append(("Job-Status", s.reportStatus(id)))
            job = s.jobs[id]!
            return Answer(status: 202, headers: headers)
        }
    }

    private func upload(id: Int, _ request: Request, _ body: [UInt8]) -> Answer {
        let token = request.headers[.init("JOB-TOKEN")!]
        let contentType = request.headers[.contentType] ?? ""
        let query = request.uri.queryParameters
        return state.withLockedValue { s in
            guard var job = s.jobs[id] else { return Answer(status: 404) }
            guard token == job.token else { return Answer(status: 403) }
            guard let file = Multipart.file(named: "file", in: body, contentType: contentType) else {
                return Answer(status: 400, body: Array("file is missing".utf8))
            }
            if file.bytes.count > s.maxArtifactSize { return Answer(status: 413) }
            job.artifacts.append(
                UploadedArtifact(
                    filename: file.filename, bytes: file.bytes, format: query.get("artifact_format"),
                    type: query.get("artifact_type"), expireIn: query.get("expire_in")))
            s.jobs[id] = job
            return Answer(status: 201, body: Array("201".utf8))
        }
    }
}
