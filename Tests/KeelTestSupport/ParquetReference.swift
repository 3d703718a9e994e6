import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// pyarrow, the reference Parquet writer, pinned, in its own virtual environment `.venv-parquet/` at the
/// package root (ignored by git), installed by the tests on first use under a file lock.
public enum ParquetReference {
    public static let pyarrow = "pyarrow==18.1.0"

    public static var python: String { Datasets.packageRoot.appendingPathComponent(".venv-parquet/bin/python").path }

    public static let ready = PythonEnvironment.make(".venv-parquet", packages: [pyarrow]) { root in
        let check = "import pyarrow, sys; sys.exit(0 if pyarrow.__version__ == '\(pyarrow.dropFirst("pyarrow==".count))' else 1)"
        return (try? PythonEnvironment.shell([root + "/bin/python", "-c", check])) != nil
    }

    /// Runs `script` with the environment's Python and returns its standard output.
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        try ready.get()
        return try PythonEnvironment.shell([python, "-c", script] + arguments)
    }
}
