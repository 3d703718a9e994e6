import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Python virtual environment for cross-checks against peer libraries (LightGBM, CatBoost, scikit-learn, scipy).
///
/// The tests install it themselves, into `.venv-test/` at the package root (ignored by git), on first use;
/// a file lock keeps concurrent test processes from installing twice. Nothing is skipped: when the
/// environment cannot be made, the cross-check tests fail with pip's message.
public enum PythonEnvironment {
    /// Pinned: a new release of a peer library must not change what the cross-checks compare against.
    public static let packages = ["numpy==2.4.6", "pandas==3.1.1", "scikit-learn==1.9.1", "lightgbm==4.7.0", "catboost==1.2.10",
                                  "scipy==1.17.1", "shap==0.51.0", "pillow==13.0.0"]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    private static let root = Datasets.packageRoot.appendingPathComponent(".venv-test")
    public static var python: String { root.appendingPathComponent("bin/python").path }

    /// Creates the environment once per process (and once per machine, under a lock).
    public static let ready: Result<Void, Failure> = make(".venv-test", packages: packages) { root in
        // Every module imports and every package is at its pinned version (an environment made before the pins
        // is brought to them).
        let check = "import " + ["numpy", "pandas", "sklearn", "lightgbm", "catboost", "scipy", "shap", "PIL"].joined(separator: ", ") + """

        import sys, importlib.metadata as metadata
        off = [spec for spec in sys.argv[1:] if metadata.version(spec.split("==")[0]) != spec.split("==")[1]]
        sys.exit("not at the pinned versions: " + ", ".join(off) if off else 0)
        """
        return (try? shell([root + "/bin/python", "-c", check] + packages)) != nil
    }

    /// A virtual environment `folder` at the package root (ignored by git) holding the pinned `packages`:
    /// made unless `isReady(root)` says the one there already serves, under a file lock (`folder.lock`) so
    /// concurrent test processes install once, and checked again after installing.
    public static func make(_ folder: String, packages: [String], isReady: (String) -> Bool) -> Result<Void, Failure> {
        let root = Datasets.packageRoot.appendingPathComponent(folder).path
        let lockPath = root + ".lock"
        let lock = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard lock >= 0 else { return .failure(Failure(description: "cannot open \(lockPath)")) }
        flock(lock, LOCK_EX)
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        if FileManager.default.isExecutableFile(atPath: root + "/bin/python"), isReady(root) { return .success(()) }
        do {
            try shell(["python3", "-m", "venv", root])
            try shell([root + "/bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + packages)
            guard isReady(root) else { return .failure(Failure(description: "\(folder): installed \(packages.joined(separator: " ")), but the check still fails")) }
            return .success(())
        } catch {
            return .failure(error as? Failure ?? Failure(description: "\(error)"))
        }
    }

    /// Runs `script` with the environment's Python and returns its standard output.
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        try ready.get()
        return try shell([python, "-c", script] + arguments)
    }

    @discardableResult
    public static func shell(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(command.prefix(3).joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self).suffix(2000))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}
