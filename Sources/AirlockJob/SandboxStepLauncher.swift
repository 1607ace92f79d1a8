import AirlockCore
import AirlockProfile
import AirlockSandbox

/// The pipeline's launcher: each step is `/bin/sh -e -c RUN` in a fresh sandbox on the job's
/// workspace, uid slot and log pipes, with the delivered secrets.
struct SandboxStepLauncher: SandboxLauncher {
    let sandbox: Sandbox
    let profile: Profile
    let environment: [(key: String, value: String)]
    let secretFiles: [(name: String, contents: String)]
    let workspace: Workspace
    let identity: SandboxIdentity
    let limits: ResourceLimits
    /// stdin (/dev/null), and the log's stdout and stderr write ends.
    let stdio: (Int32, Int32, Int32)
    let sourceDateEpoch: Int64
    let control: JobControl?

    func launch(_ s: StepLaunch) throws -> SandboxResult {
        var stepLimits = limits
        stepLimits.timeout = s.timeout
        var spec = SandboxSpec(
            profile: profile, command: ["/bin/sh", "-e", "-c", s.step.run], environment: environment,
            workspace: workspace.path, limits: stepLimits, workingDirectory: "/workspace", stdio: stdio,
            sourceDateEpoch: sourceDateEpoch)
        spec.secretFiles = secretFiles
        return try sandbox.runBlocking(spec, identity: identity, control: control, cleanup: s.cleanup)
    }
}
