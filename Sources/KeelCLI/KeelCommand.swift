import ArgumentParser
import KeelData
import KeelLearn
import KeelServer

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes shared by every command: 0 success, 1 error, 2 usage error, 3 a check that ran and found a problem.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case failure = 1
    case usage = 2
    case checkFailed = 3
}

/// The `keel` root command.
public struct KeelCommand: AsyncParsableCommand {
    public static let version = TrainedModel.keelVersion

    public static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Production AutoML for tabular data: build, explain, ship, govern and watch models.",
        discussion: """
        Results go to standard output; progress, warnings and errors to standard error. `--json` prints one \
        JSON document on standard output. Exit codes: 0 success, 1 error, 2 usage error, 3 a check found a problem.
        """,
        version: version,
        subcommands: [TrainCommand.self, PredictCommand.self, ExplainCommand.self, ServeCommand.self, InspectCommand.self, ModelCommand.self,
                      ModelsCommand.self, ReviewCommand.self, RunsCommand.self, DatasetsCommand.self, MonitorCommand.self, DriftCommand.self, RetrainCommand.self, LogCommand.self, AuditCommand.self, GCCommand.self, RegistryCommand.self, KeysCommand.self, ExampleCommand.self, TrialCommand.self]
    )

    public init() {}

    /// Parses the process arguments, runs the command and exits with Keel's exit codes.
    public static func runAndExit(arguments: [String]? = nil) async -> Never {
        if (arguments ?? Array(CommandLine.arguments.dropFirst())).first == "serve" { PredictionServer.shareEventLoopsWithConcurrency() }
        let status = await run(arguments: arguments)
        Glibc.exit(status.rawValue)
    }

    /// Runs one command line and reports errors on standard error; returns the exit status.
    public static func run(arguments: [String]?) async -> ExitStatus {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            if exitCode(for: error) == .success {
                // --help and --version: ArgumentParser prints them and exits with 0.
                exit(withError: error)
            }
            // ArgumentParser's message starts with its own "Error: "; Terminal.error adds Keel's prefix.
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            Terminal.error(message)
            return .usage
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return .success
        } catch let exit as CheckFailed {
            Terminal.error(exit.message)
            return .checkFailed
        } catch let error as ValidationError {
            Terminal.error("\(error)\n\(command is KeelCommand ? helpMessage() : helpMessage(for: type(of: command)))")
            return .usage
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            Terminal.error(String(describing: error))
            return .failure
        }
    }
}

/// Thrown by a command whose check ran and found a problem (exit code 3).
public struct CheckFailed: Error {
    public var message: String
}

/// Standard error output, so that standard output carries only results.
enum Terminal {
    static func error(_ message: String) {
        FileHandleOutput.standardError.write("error: \(message)\n")
    }

    static func progress(_ message: String) {
        FileHandleOutput.standardError.write("\(message)\n")
    }
}

struct FileHandleOutput {
    static let standardError = FileHandleOutput(descriptor: 2)
    let descriptor: Int32

    func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
