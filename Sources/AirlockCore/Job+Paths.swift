import Foundation

extension Job {
    /// The directory relative inputs are taken from: the job file's directory when the job came
    /// from a file, otherwise the current directory.
    public var baseDirectory: String {
        let cwd = FileManager.default.currentDirectoryPath
        guard let sourceFile else { return PathSyntax.normalized(cwd) }
        return PathSyntax.directory(of: PathSyntax.resolve(sourceFile, against: cwd))
    }

    /// `input` as an absolute, lexically normalised host path.
    public func resolvedPath(forInput input: String) -> String {
        PathSyntax.resolve(input, against: baseDirectory)
    }

    /// Every input as an absolute, lexically normalised host path, in file order.
    public var resolvedInputPaths: [String] { inputs.map(resolvedPath(forInput:)) }
}
