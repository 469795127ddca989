// A thin async/await face over the generated `PatrolStore` (Generated/StreetPatrol.swift): every
// call runs on one serial queue of its own, never on the caller's (main) thread, and a track import
// is an AsyncThrowingStream of progress that a cancelled Task stops.
//
// Errors are the generated `PatrolError` cases (.InvalidInput, .NotFound, .InvalidState,
// .NotADatabase, .DatabaseTooNew, .Io, .Interrupted, .Storage, .Internal), each with a message
// saying what was wrong and what to do.

import Foundation

public final class StreetPatrolStore: @unchecked Sendable {
    /// The generated store, for anything this wrapper does not cover yet.
    public let store: PatrolStore
    // One connection underneath: a serial queue keeps calls in order without blocking callers.
    private let queue = DispatchQueue(label: "org.streetpatrol.store", qos: .userInitiated)

    private init(store: PatrolStore) {
        self.store = store
    }

    /// Opens (creating if needed) the store at `path`, typically in Application Support.
    public static func open(
        path: String,
        settings: StoreSettings = StoreSettings(),
        clock: WallClock? = nil,
        network: NetworkMonitor? = nil
    ) async throws -> StreetPatrolStore {
        let store = try await Task.detached(priority: .userInitiated) {
            try PatrolStore.open(path: path, settings: settings, clock: clock, network: network)
        }.value
        return StreetPatrolStore(store: store)
    }

    private func run<T>(_ call: @escaping (PatrolStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try call(self.store) })
            }
        }
    }

    // MARK: This device

    public func initDevice(name: String, role: Role, subdistrictId: SubdistrictId? = nil) async throws -> DeviceIdentity {
        try await run { try $0.initDevice(name: name, role: role, subdistrictId: subdistrictId) }
    }

    public func device() async throws -> DeviceIdentity? {
        try await run { try $0.device() }
    }

    /// What the `NetworkMonitor` reports; nil without one.
    public func networkState() -> NetworkState? {
        store.networkState()
    }

    // MARK: Recording

    public func startPatrol(plannedStreets: [String] = []) async throws -> PatrolId {
        try await run { try $0.startPatrol(plannedStreets: plannedStreets) }
    }

    public func openPatrol() async throws -> PatrolId? {
        try await run { try $0.openPatrol() }
    }

    /// One fix, durable when this returns. Prefer `addFixes` for the locations a
    /// `CLLocationManager` delivers together.
    public func addFix(patrolId: PatrolId, fix: Fix) async throws -> FixOutcome {
        try await run { try $0.addFix(patrolId: patrolId, fix: fix) }
    }

    public func addFixes(patrolId: PatrolId, fixes: [Fix]) async throws -> BatchOutcome {
        try await run { try $0.addFixes(patrolId: patrolId, fixes: fixes) }
    }

    public func pausePatrol(patrolId: PatrolId) async throws {
        try await run { try $0.pausePatrol(patrolId: patrolId) }
    }

    public func resumePatrol(patrolId: PatrolId) async throws {
        try await run { try $0.resumePatrol(patrolId: patrolId) }
    }

    public func stopPatrol(patrolId: PatrolId) async throws -> TrackStats {
        try await run { try $0.stopPatrol(patrolId: patrolId) }
    }

    public func samplingAdvice(patrolId: PatrolId) async throws -> SamplingAdvice {
        try await run { try $0.samplingAdvice(patrolId: patrolId) }
    }

    // MARK: Reading back

    public func patrol(patrolId: PatrolId) async throws -> PatrolInfo {
        try await run { try $0.patrol(patrolId: patrolId) }
    }

    public func listPatrols() async throws -> [PatrolInfo] {
        try await run { try $0.listPatrols() }
    }

    public func fixes(patrolId: PatrolId) async throws -> [StoredFix] {
        try await run { try $0.fixes(patrolId: patrolId) }
    }

    public func trackStats(patrolId: PatrolId) async throws -> TrackStats {
        try await run { try $0.trackStats(patrolId: patrolId) }
    }

    public func simplifiedTrack(patrolId: PatrolId) async throws -> [[LatLon]] {
        try await run { try $0.simplifiedTrack(patrolId: patrolId) }
    }

    // MARK: Files

    public func exportTrack(
        patrolId: PatrolId,
        format: TrackExportFormat,
        datum: Datum = .wgs84,
        which: ExportFixes = .kept
    ) async throws -> String {
        try await run { try $0.exportTrack(patrolId: patrolId, format: format, datum: datum, which: which) }
    }

    public enum ImportEvent: Sendable {
        case progressed(ProgressReport)
        case finished(ImportReport)
    }

    /// Imports a GPX or PLT file on a core worker thread: progress as it goes, the report last.
    /// Cancelling the consuming Task (or breaking out of the loop) cancels the import, and nothing
    /// of it is stored.
    public func importTrack(path: String, settings: ImportSettings = ImportSettings()) -> AsyncThrowingStream<ImportEvent, Error> {
        AsyncThrowingStream { continuation in
            let token = CancelToken()
            let listener = StreamingProgressListener(continuation)
            let task = Task {
                do {
                    let report = try await self.store.importTrackFile(
                        path: path, settings: settings, progress: listener, cancel: token)
                    continuation.yield(.finished(report))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                token.cancel()
                task.cancel()
            }
        }
    }
}

/// Forwards the core's progress reports (on its worker thread) into a stream.
private final class StreamingProgressListener: ProgressListener, @unchecked Sendable {
    private let continuation: AsyncThrowingStream<StreetPatrolStore.ImportEvent, Error>.Continuation

    init(_ continuation: AsyncThrowingStream<StreetPatrolStore.ImportEvent, Error>.Continuation) {
        self.continuation = continuation
    }

    func onProgress(progress: ProgressReport) {
        continuation.yield(.progressed(progress))
    }
}
