import Foundation
import Logging
import PostgresNIO

/// Changes pushed to servers that follow the registry: every commit that moves a stage (registration,
/// promotion, rollback, import) notifies the channel `keel_registry`, and a follower listening on its own
/// connection hears it at once instead of at its next poll.
extension PostgresStore {
    /// The notification channel.
    public static let changeChannel = "keel_registry"

    /// Listens until cancelled, calling `changed` for each notification, and once after every (re)connection,
    /// since notifications sent while no connection listened are lost. A lost connection is retried with a
    /// growing pause (0.2 s to 5 s); `failed` hears why, so that polling is known to be all that is left.
    public func followChanges(changed: @escaping @Sendable () -> Void, failed: @escaping @Sendable (String) -> Void) -> Task<Void, Never> {
        let location = database.location
        let logger = database.logger
        return Task.detached {
            var pause = 0.2
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresRegistryDatabase.connect(location, applicationName: "keel serve (follower)", logger: logger)
                    do {
                        try await connection.listen(on: Self.changeChannel) { notifications in
                            pause = 0.2
                            changed()
                            for try await _ in notifications {
                                if Task.isCancelled { break }
                                changed()
                            }
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                } catch {
                    if Task.isCancelled { return }
                    failed("\(PostgresErrors.registryError(error, location: location))")
                }
                try? await Task.sleep(for: .milliseconds(Int(pause * 1000)))
                pause = min(pause * 2, 5)
            }
        }
    }
}
