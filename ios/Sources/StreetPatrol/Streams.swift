// AsyncSequences over the generated `PatrolStore` (Generated/StreetPatrol.swift): the core's
// observers and its slow work with progress, as streams a `for try await` loop consumes. Apps call
// `PatrolStore` directly for everything else: the slow calls are `async` there already (they run
// on a core worker thread), the rest are quick. The platform glue is in Platform.swift.
//
// Errors are the generated `PatrolError` cases (.InvalidInput, .NotFound(kind:id:reason:),
// .InvalidState, .NotADatabase, .DatabaseTooNew(found:supported:reason:), .Io,
// .NotAllowed(role:action:reason:), .Network, .Server(status:code:reason:), .Protocol,
// .Interrupted, .Storage, .Internal): switch on the case and its fields, show `reason`.

import Foundation

/// What slow work reports while it runs, then its result, once, at the end.
public enum ProgressEvent<Outcome> {
    case progressed(ProgressReport)
    case finished(Outcome)
}

// Sendable where its parts are: the generated records are Sendable from Swift 6 compilers on.
#if compiler(>=6)
extension ProgressEvent: Sendable where Outcome: Sendable {}
#endif

extension PatrolStore {
    // MARK: Observers

    /// The issues matching `query`: the current list first, then the list each time it changes
    /// (an issue reported, acted on, imported or synced), from the core's observer
    /// (`observeIssues`). Ending the loop (or cancelling its Task) stops the observer. A slow
    /// consumer gets the newest list. A failing query ends the stream with its `PatrolError`.
    public func issueUpdates(query: IssueQuery = IssueQuery()) -> AsyncThrowingStream<[IssueSummary], Error> {
        observed { send, fail in
            try self.observeIssues(query: query, listener: IssueListForwarder(send: send, fail: fail))
        }
    }

    /// The recording state (the patrol open on this device, its motion and location interval),
    /// like `issueUpdates`: the current state first, then each change.
    public func recordingUpdates() -> AsyncThrowingStream<RecordingState, Error> {
        observed { send, fail in
            try self.observeRecording(listener: RecordingStateForwarder(send: send, fail: fail))
        }
    }

    /// An observer as a stream keeping the newest value: `start` registers a listener that calls
    /// `send` with each state and `fail` with an error; the `TaskHandle` it returns is cancelled
    /// and released when the stream terminates.
    private func observed<T>(
        _ start: (@escaping @Sendable (T) -> Void, @escaping @Sendable (Error) -> Void) throws -> TaskHandle
    ) -> AsyncThrowingStream<T, Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            do {
                let handle = try start(
                    { continuation.yield($0) },
                    { continuation.finish(throwing: $0) }
                )
                continuation.onTermination = { _ in handle.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    // MARK: Slow work with progress

    /// Imports a GPX or PLT file (`importTrackFile`) on a core worker thread: progress as it goes,
    /// the report last. Ending the loop (or cancelling its Task) cancels the import, and nothing
    /// of it is stored.
    public func importingTrack(path: String, settings: ImportSettings = ImportSettings()) -> AsyncThrowingStream<ProgressEvent<ImportReport>, Error> {
        progressStream { store, listener, token in
            try await store.importTrackFile(path: path, settings: settings, progress: listener, cancel: token)
        }
    }

    /// Imports a street network file (`.osm` or `.geojson`, `importStreetFile`) like
    /// `importingTrack`: bytes read, then streets stored, the report last; cancelling rolls it back.
    public func importingStreets(path: String, settings: StreetImportSettings = StreetImportSettings()) -> AsyncThrowingStream<ProgressEvent<StreetImportReport>, Error> {
        progressStream { store, listener, token in
            try await store.importStreetFile(path: path, settings: settings, progress: listener, cancel: token)
        }
    }

    /// Syncs with the server (`sync`): progress, then the report. The network comes from the
    /// store's `NetworkMonitor` unless `settings` names one; cancelling stops the sync and keeps
    /// what it finished.
    public func syncing(settings: SyncSettings = SyncSettings()) -> AsyncThrowingStream<ProgressEvent<SyncReport>, Error> {
        progressStream { store, listener, token in
            try await store.sync(settings: settings, progress: listener, cancel: token)
        }
    }

    /// Runs `call` (slow work on a core worker thread) as a stream: the core's progress, then its
    /// result. Ending the stream cancels the work through a `CancelToken` (cancelling a Task does
    /// not reach a uniffi async call), and the core stops.
    private func progressStream<R>(
        _ call: @escaping @Sendable (PatrolStore, ProgressListener, CancelToken) async throws -> R
    ) -> AsyncThrowingStream<ProgressEvent<R>, Error> {
        AsyncThrowingStream { continuation in
            let token = CancelToken()
            let listener = ProgressForwarder { continuation.yield(.progressed($0)) }
            let task = Task { [self] in
                do {
                    let result = try await call(self, listener, token)
                    continuation.yield(.finished(result))
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

/// Forwards an issue list observer's calls (on its thread) to closures.
private final class IssueListForwarder: IssueListListener, @unchecked Sendable {
    private let send: @Sendable ([IssueSummary]) -> Void
    private let fail: @Sendable (Error) -> Void

    init(send: @escaping @Sendable ([IssueSummary]) -> Void, fail: @escaping @Sendable (Error) -> Void) {
        self.send = send
        self.fail = fail
    }

    func onIssues(issues: [IssueSummary]) { send(issues) }

    func onError(error: PatrolError) { fail(error) }
}

/// Forwards a recording state observer's calls (on its thread) to closures.
private final class RecordingStateForwarder: RecordingStateListener, @unchecked Sendable {
    private let send: @Sendable (RecordingState) -> Void
    private let fail: @Sendable (Error) -> Void

    init(send: @escaping @Sendable (RecordingState) -> Void, fail: @escaping @Sendable (Error) -> Void) {
        self.send = send
        self.fail = fail
    }

    func onState(state: RecordingState) { send(state) }

    func onError(error: PatrolError) { fail(error) }
}

/// Forwards the core's progress reports (on its worker thread) to a closure.
private final class ProgressForwarder: ProgressListener, @unchecked Sendable {
    private let forward: @Sendable (ProgressReport) -> Void

    init(_ forward: @escaping @Sendable (ProgressReport) -> Void) {
        self.forward = forward
    }

    func onProgress(progress: ProgressReport) { forward(progress) }
}
