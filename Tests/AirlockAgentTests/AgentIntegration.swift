import AirlockTestSupport
import Testing

/// The agent's integration tests: the real `airlock agent` serving a spool or a GitLab
/// coordinator, as root. Host-exclusive with the sandbox integration suite (AirlockSandboxTests),
/// since both check the host for leftovers.
@Suite("agent integration (root)", .serialized, .needsRootSandbox, .hostExclusive)
struct AgentIntegration {}
