import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium for tests that look at a page as a person would. Installed from Debian's packages
/// on first use (the tests run as root in CI), under a lock so parallel tests install once.
public enum HeadlessBrowser {
    public static let ready: Result<String, PythonEnvironment.Failure> = {
        if let found = executable() { return .success(found) }
        let lockPath = Datasets.packageRoot.appendingPathComponent(".venv-test.lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR, 0o644)
        flock(lock, LOCK_EX)
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        if let found = executable() { return .success(found) }
        do {
            try PythonEnvironment.shell(["apt-get", "update", "-qq"])
            try PythonEnvironment.shell(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "chromium"])
        } catch {
            return .failure(error as? PythonEnvironment.Failure ?? PythonEnvironment.Failure(description: "\(error)"))
        }
        guard let found = executable() else { return .failure(PythonEnvironment.Failure(description: "chromium was installed but is not on PATH")) }
        return .success(found)
    }()

    private static func executable() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Renders `html` to a PNG screenshot of `width` × `height` pixels.
    public static func screenshot(_ html: String, to png: String, width: Int = 1200, height: Int = 3000) throws {
        let browser = try ready.get()
        try PythonEnvironment.shell([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                     "--window-size=\(width),\(height)", "--screenshot=\(png)", "file://\(html)"])
    }

    /// The page's DOM after Chromium has parsed and laid it out.
    public static func dom(_ html: String) throws -> String {
        let browser = try ready.get()
        return try PythonEnvironment.shell([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(html)"])
    }
}
