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

    /// What a screenshot shows, for "not blank" checks.
    public struct Ink: Sendable {
        public var width: Int
        public var height: Int
        /// Share of pixels that are not white.
        public var drawn: Double
        public var colours: Int
    }

    /// Renders `html` to `test-artifacts/NAME.png` (kept for people to look at) and measures it with Pillow.
    public static func render(_ html: String, artifact name: String) throws -> Ink {
        let artifacts = Datasets.packageRoot.appendingPathComponent("test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("\(name).png").path
        try? FileManager.default.removeItem(atPath: png)
        try screenshot(html, to: png)
        let numbers = try PythonEnvironment.run("""
        import sys
        from PIL import Image
        im = Image.open(sys.argv[1]).convert("RGB")
        px = list(im.getdata())
        print(im.size[0], im.size[1], sum(1 for p in px if p != (255, 255, 255)) / len(px), len(set(px)))
        """, arguments: [png]).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        return Ink(width: Int(numbers[0]), height: Int(numbers[1]), drawn: numbers[2], colours: Int(numbers[3]))
    }
}
