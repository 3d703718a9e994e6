import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// pyarrow, the reference Parquet writer, pinned, in its own virtual environment `.venv-parquet/` at the
/// package root (ignored by git), installed by the tests on first use under a file lock.
public enum ParquetReference {
    public static let pyarrow = "pyarrow==18.1.0"

    private static let root = Datasets.packageRoot.appendingPathComponent(".venv-parquet")
    public static var python: String { root.appendingPathComponent("bin/python").path }

    public static let ready: Result<Void, PythonEnvironment.Failure> = {
        let lockPath = Datasets.packageRoot.appendingPathComponent(".venv-parquet.lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard lock >= 0 else { return .failure(.init(description: "cannot open \(lockPath)")) }
        flock(lock, LOCK_EX)
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        let check = "import pyarrow, sys; sys.exit(0 if pyarrow.__version__ == '\(pyarrow.dropFirst("pyarrow==".count))' else 1)"
        if FileManager.default.isExecutableFile(atPath: python), (try? PythonEnvironment.shell([python, "-c", check])) != nil { return .success(()) }
        do {
            try PythonEnvironment.shell(["python3", "-m", "venv", root.path])
            try PythonEnvironment.shell([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pyarrow])
            try PythonEnvironment.shell([python, "-c", check])
            return .success(())
        } catch {
            return .failure(error as? PythonEnvironment.Failure ?? .init(description: "\(error)"))
        }
    }()

    /// Runs `script` with the environment's Python and returns its standard output.
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        try ready.get()
        return try PythonEnvironment.shell([python, "-c", script] + arguments)
    }
}
