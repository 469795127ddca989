// iOS glue for the StreetPatrol core: where the database lives, locations as fixes, and the
// network state from an `NWPathMonitor`. The streams over the core are in Streams.swift;
// everything else is the generated `PatrolStore`.

import Foundation
#if canImport(CoreLocation)
import CoreLocation
#endif
#if canImport(Network)
import Network
#endif

extension PatrolStore {
    /// Opens (creating if needed) the store `fileName` in the app's Application Support
    /// directory, off the caller's thread (opening may migrate the schema, or encrypt a plain
    /// store from an earlier version in place). Its keys and the sync token live in `secrets`,
    /// the Keychain unless told otherwise. Pass a
    /// `PathNetworkMonitor` as `network` (and close it with the store) once the app syncs; sync
    /// goes over `URLSession` unless `http` says otherwise.
    public static func `open`(
        fileName: String = "streetpatrol.db",
        settings: StoreSettings = StoreSettings(),
        network: NetworkMonitor? = nil,
        clock: WallClock? = nil,
        http: HttpClient = URLSessionHttpClient(),
        secrets: SecretStore = KeychainSecretStore()
    ) async throws -> PatrolStore {
        try await Task.detached(priority: .userInitiated) {
            let folder = try FileManager.default.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
            )
            let path = folder.appendingPathComponent(fileName).path
            return try PatrolStore.open(
                path: path, secrets: secrets, settings: settings, clock: clock, network: network, http: http
            )
        }.value
    }
}

#if canImport(CoreLocation)
extension CLLocation {
    /// This location as a core fix (WGS-84, as Core Location delivers it). Pass the `locations`
    /// of one `didUpdateLocations` together: `try store.addFixes(patrolId: id, fixes: locations.map { $0.toFix() })`.
    /// Core Location marks what it does not know with negative values; those become nil.
    public func toFix() -> Fix {
        Fix(
            lat: coordinate.latitude,
            lon: coordinate.longitude,
            timeMs: Int64((timestamp.timeIntervalSince1970 * 1000).rounded()),
            accuracyM: horizontalAccuracy >= 0 ? horizontalAccuracy : nil,
            altitudeM: verticalAccuracy > 0 ? altitude : nil,
            speedMps: speed >= 0 ? speed : nil,
            bearingDeg: course >= 0 ? course : nil,
            provider: "core-location",
            isMock: sourceInformation?.isSimulatedBySoftware ?? false,
            datum: nil
        )
    }
}
#endif

#if canImport(Network)
/// The device's network as the core needs it, kept current by an `NWPathMonitor`: `.wifi` for an
/// unmetered path (wifi, wired), `.cellular` for an expensive or constrained one (mobile data, a
/// personal hotspot, Low Data Mode), `.offline` without one. `state` lets the UI show it too.
/// Close it with the store (it cancels the path monitor).
///
/// A class with a lock rather than an actor: the core asks `networkState()` synchronously from its
/// own threads, and an actor's state can only be read with `await`.
public final class PathNetworkMonitor: NetworkMonitor, @unchecked Sendable {
    private let monitor = NWPathMonitor()
    private let lock = NSLock()
    private var current: NetworkState = .offline
    private var listeners: [UUID: AsyncStream<NetworkState>.Continuation] = [:]

    /// Starts monitoring on `queue`.
    public init(queue: DispatchQueue = DispatchQueue(label: "org.streetpatrol.network")) {
        // Offline until the monitor's first path, which it delivers as soon as it starts.
        monitor.pathUpdateHandler = { [weak self] path in self?.update(Self.state(of: path)) }
        monitor.start(queue: queue)
    }

    deinit {
        monitor.cancel()
    }

    /// Called by the core (on its own threads) when it decides what to sync.
    public func networkState() -> NetworkState {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The network state for the UI: the current one first, then each change, until the loop
    /// ends or the monitor is closed.
    public var state: AsyncStream<NetworkState> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let id = UUID()
            lock.lock()
            listeners[id] = continuation
            let now = current
            lock.unlock()
            continuation.yield(now)
            continuation.onTermination = { [weak self] _ in self?.removeListener(id) }
        }
    }

    /// Stops monitoring and ends the `state` streams.
    public func close() {
        monitor.cancel()
        lock.lock()
        let ending = Array(listeners.values)
        listeners.removeAll()
        lock.unlock()
        ending.forEach { $0.finish() }
    }

    private func update(_ state: NetworkState) {
        lock.lock()
        let changed = current != state
        current = state
        let told = changed ? Array(listeners.values) : []
        lock.unlock()
        told.forEach { $0.yield(state) }
    }

    private func removeListener(_ id: UUID) {
        lock.lock()
        listeners[id] = nil
        lock.unlock()
    }

    private static func state(of path: NWPath) -> NetworkState {
        guard path.status == .satisfied else { return .offline }
        return path.isExpensive || path.isConstrained ? .cellular : .wifi
    }
}
#endif
