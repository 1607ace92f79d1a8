import Foundation
import Prometheus

/// The agent's Prometheus metrics (served at `/metrics`).
///
/// - `airlock_jobs_total{state}`: finished jobs by outcome (success, failed, canceled, system_failure)
/// - `airlock_jobs_running`: jobs running now
/// - `airlock_job_duration_seconds`: claim to result reported
/// - `airlock_sandbox_setup_seconds`: claim to the first sandbox running (the agent's own set-up)
/// - `airlock_api_requests_total{endpoint,status}`: requests to the coordinator by HTTP status
/// - `airlock_leases_revoked_total`: secret leases revoked (jobs' and leftovers')
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let running: Gauge
    let jobDuration: ValueHistogram
    let setupDuration: ValueHistogram
    let leasesRevoked: Counter

    static let jobBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
    static let setupBuckets: [Double] = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30]

    public init() {
        running = registry.makeGauge(name: "airlock_jobs_running", help: "Jobs running now.")
        jobDuration = registry.makeValueHistogram(
            name: "airlock_job_duration_seconds", buckets: Self.jobBuckets,
            help: "From claiming a job to reporting its result.")
        setupDuration = registry.makeValueHistogram(
            name: "airlock_sandbox_setup_seconds", buckets: Self.setupBuckets,
            help: "From claiming a job to its first sandbox running.")
        leasesRevoked = registry.makeCounter(
            name: "airlock_leases_revoked_total", help: "Secret leases revoked by this agent.")
        for s in JobOutcome.State.allNames { _ = jobs(s) }
    }

    func jobs(_ state: String) -> Counter {
        registry.makeCounter(
            name: "airlock_jobs_total", labels: [("state", state)], help: "Finished jobs by outcome.")
    }

    /// Count a request to the coordinator.
    public func apiRequest(endpoint: String, status: Int) {
        registry.makeCounter(
            name: "airlock_api_requests_total", labels: [("endpoint", endpoint), ("status", String(status))],
            help: "Requests to the coordinator by endpoint and HTTP status (0: no response)."
        ).increment()
    }

    func record(_ outcome: JobOutcome, duration: Double) {
        jobs(outcome.state.rawValue).increment()
        jobDuration.record(duration)
        if let s = outcome.setupSeconds { setupDuration.record(s) }
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}

extension JobOutcome.State {
    static let allNames = ["success", "failed", "canceled", "system_failure"]
}
