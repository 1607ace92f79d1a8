import AirlockCore
import ArgumentParser
import Foundation

/// Exit statuses of the `airlock` command.
enum ExitStatus {
    /// Bad input, setup failure, unsupported host: nothing ran.
    static let usage: Int32 = 2
}

/// Print an error the way people read them: what, then how to fix it. The exit status comes
/// from the error's code (`AirlockError.Code.exitStatus`).
func report(_ error: Error) -> Int32 {
    let stderr = FileHandle.standardError
    if let e = error as? AirlockError {
        stderr.write(Data("airlock: error: \(e.description)\n".utf8))
        return e.code.exitStatus
    }
    stderr.write(Data("airlock: error: \(error)\n".utf8))
    return ExitStatus.usage
}

func warn(_ text: String) {
    FileHandle.standardError.write(Data("airlock: warning: \(text)\n".utf8))
}

func info(_ text: String) {
    FileHandle.standardError.write(Data("airlock: \(text)\n".utf8))
}
