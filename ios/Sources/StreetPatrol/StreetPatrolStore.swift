// A thin async/await face over the generated `PatrolStore` (Generated/StreetPatrol.swift): every
// call runs on one serial queue of its own, never on the caller's (main) thread, and a track import
// is an AsyncThrowingStream of progress that a cancelled Task stops.
//
// Errors are the generated `PatrolError` cases (.InvalidInput, .NotFound, .InvalidState,
// .NotADatabase, .DatabaseTooNew, .Io, .NotAllowed, .Interrupted, .Storage, .Internal), each with
// a message saying what was wrong and what to do. `.NotAllowed` is the workflow refusing an action
// for the user's role (a steward verifying): show its message.

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
        progressStream(progressed: ImportEvent.progressed, finished: ImportEvent.finished) { store, listener, token in
            try await store.importTrackFile(path: path, settings: settings, progress: listener, cancel: token)
        }
    }

    // MARK: Streets

    public enum StreetImportEvent: Sendable {
        case progressed(ProgressReport)
        case finished(StreetImportReport)
    }

    /// Imports a street network file (`.osm` or `.geojson`) like `importTrack`: progress (bytes
    /// read, then streets stored), the report last; a cancelled Task rolls it back.
    public func importStreets(path: String, settings: StreetImportSettings = StreetImportSettings()) -> AsyncThrowingStream<StreetImportEvent, Error> {
        progressStream(progressed: StreetImportEvent.progressed, finished: StreetImportEvent.finished) { store, listener, token in
            try await store.importStreetFile(path: path, settings: settings, progress: listener, cancel: token)
        }
    }

    public func listStreets() async throws -> [StreetInfo] {
        try await run { try $0.listStreets() }
    }

    public func street(streetId: StreetId) async throws -> Street {
        try await run { try $0.street(streetId: streetId) }
    }

    /// A street id, or a name only one street has.
    public func resolveStreet(reference: String) async throws -> StreetId {
        try await run { try $0.resolveStreet(reference: reference) }
    }

    public func streetSegments() async throws -> [Segment] {
        try await run { try $0.streetSegments() }
    }

    public func exportStreetsGeojson() async throws -> String {
        try await run { try $0.exportStreetsGeojson() }
    }

    public func assignStreet(streetId: StreetId, userId: String, role: Role) async throws -> String? {
        try await run { try $0.assignStreet(streetId: streetId, userId: userId, role: role) }
    }

    public func unassignStreet(streetId: StreetId, userId: String, role: Role) async throws -> Bool {
        try await run { try $0.unassignStreet(streetId: streetId, userId: userId, role: role) }
    }

    public func streetAssignments() async throws -> [Assignment] {
        try await run { try $0.streetAssignments() }
    }

    public func assignmentsOf(userId: String) async throws -> [Assignment] {
        try await run { try $0.assignmentsOf(userId: userId) }
    }

    public func matchPoint(lat: Double, lon: Double, accuracyM: Double? = nil) async throws -> PointMatch? {
        try await run { try $0.matchPoint(lat: lat, lon: lon, accuracyM: accuracyM) }
    }

    // MARK: Coverage

    public func patrolCoverage(patrolId: PatrolId) async throws -> PatrolCoverage {
        try await run { try $0.patrolCoverage(patrolId: patrolId) }
    }

    public func periodCoverage(fromMs: Int64, toMs: Int64, userId: String? = nil) async throws -> PeriodCoverage {
        try await run { try $0.periodCoverage(fromMs: fromMs, toMs: toMs, userId: userId) }
    }

    // MARK: Signboards

    public func issueSignboard(streetId: StreetId, position: LatLon? = nil) async throws -> Signboard {
        try await run { try $0.issueSignboard(streetId: streetId, position: position) }
    }

    public func signboardsOf(streetId: StreetId) async throws -> [Signboard] {
        try await run { try $0.signboardsOf(streetId: streetId) }
    }

    public func districtPublicKey() async throws -> String {
        try await run { try $0.districtPublicKey() }
    }

    public func trustDistrictKey(publicKey: String) async throws {
        try await run { try $0.trustDistrictKey(publicKey: publicKey) }
    }

    /// Verifies a scanned QR (link or code); a chief or steward on patrol checks in.
    public func scanSignboard(scanned: String, position: ScanPosition? = nil) async throws -> ScanOutcome {
        try await run { try $0.scanSignboard(scanned: scanned, position: position) }
    }

    public func checkIns(patrolId: PatrolId) async throws -> [CheckIn] {
        try await run { try $0.checkIns(patrolId: patrolId) }
    }

    // MARK: Photos

    /// Copies a JPEG or PNG file into the photo store on a core worker thread.
    public func attachPhoto(path: String) async throws -> PhotoInfo {
        try await store.attachPhoto(path: path)
    }

    public func photo(sha256: String) async throws -> PhotoInfo {
        try await run { try $0.photo(sha256: sha256) }
    }

    /// JPEG bytes (`UIImage(data:)`).
    public func photoThumbnail(sha256: String) async throws -> Data {
        try await run { try $0.photoThumbnail(sha256: sha256) }
    }

    // MARK: Issues

    public func reportIssue(issue: NewIssue) async throws -> ReportOutcome {
        try await run { try $0.reportIssue(issue: issue) }
    }

    public func possibleDuplicates(issueId: IssueId) async throws -> [IssueSummary] {
        try await run { try $0.possibleDuplicates(issueId: issueId) }
    }

    public func issue(issueId: IssueId) async throws -> IssueView {
        try await run { try $0.issue(issueId: issueId) }
    }

    public func listIssues(query: IssueQuery = IssueQuery()) async throws -> [IssueSummary] {
        try await run { try $0.listIssues(query: query) }
    }

    public func countIssues(query: IssueQuery = IssueQuery()) async throws -> UInt64 {
        try await run { try $0.countIssues(query: query) }
    }

    public func assignIssue(issueId: IssueId, to: Assignee, note: String? = nil) async throws -> IssueView {
        try await run { try $0.assignIssue(issueId: issueId, to: to, note: note) }
    }

    public func returnIssue(issueId: IssueId, reason: String) async throws -> IssueView {
        try await run { try $0.returnIssue(issueId: issueId, reason: reason) }
    }

    public func acceptIssue(issueId: IssueId) async throws -> IssueView {
        try await run { try $0.acceptIssue(issueId: issueId) }
    }

    /// The fix, with an after-photo taken within 100 m (`takenAt` when it has no GPS of its own).
    public func resolveIssue(issueId: IssueId, photoSha256: String, takenAt: LatLon? = nil, note: String? = nil) async throws -> IssueView {
        try await run { try $0.resolveIssue(issueId: issueId, photoSha256: photoSha256, takenAt: takenAt, note: note) }
    }

    public func verifyIssue(issueId: IssueId, note: String? = nil) async throws -> IssueView {
        try await run { try $0.verifyIssue(issueId: issueId, note: note) }
    }

    public func reopenIssue(issueId: IssueId, reason: String) async throws -> IssueView {
        try await run { try $0.reopenIssue(issueId: issueId, reason: reason) }
    }

    public func markDuplicate(issueId: IssueId, original: IssueId) async throws -> IssueView {
        try await run { try $0.markDuplicate(issueId: issueId, original: original) }
    }

    public func cancelIssue(issueId: IssueId, reason: String) async throws -> IssueView {
        try await run { try $0.cancelIssue(issueId: issueId, reason: reason) }
    }

    public func commentIssue(issueId: IssueId, text: String) async throws -> IssueView {
        try await run { try $0.commentIssue(issueId: issueId, text: text) }
    }

    public func addIssuePhoto(issueId: IssueId, sha256: String, stage: PhotoStage) async throws -> IssueView {
        try await run { try $0.addIssuePhoto(issueId: issueId, sha256: sha256, stage: stage) }
    }

    /// The whole document, for another phone (AirDrop or a share sheet; `importIssue` there merges it).
    public func exportIssue(issueId: IssueId) async throws -> Data {
        try await run { try $0.exportIssue(issueId: issueId) }
    }

    public func importIssue(document: Data) async throws -> MergeOutcome {
        try await run { try $0.importIssue(document: document) }
    }

    public func exportIssueFile(issueId: IssueId, path: String) async throws -> UInt64 {
        try await run { try $0.exportIssueFile(issueId: issueId, path: path) }
    }

    public func importIssueFile(path: String) async throws -> MergeOutcome {
        try await run { try $0.importIssueFile(path: path) }
    }

    public func issueCategories() async throws -> [CategorySpec] {
        try await run { try $0.issueCategories() }
    }

    public func addIssueCategory(code: String, nameZh: String, nameEn: String, dueHours: UInt32) async throws {
        try await run { try $0.addIssueCategory(code: code, nameZh: nameZh, nameEn: nameEn, dueHours: dueHours) }
    }

    // MARK: Pickups and points

    public func logPickup(pickup: NewPickup) async throws -> PickupOutcome {
        try await run { try $0.logPickup(pickup: pickup) }
    }

    public func pickups(limit: UInt32 = 100) async throws -> [Pickup] {
        try await run { try $0.pickups(limit: limit) }
    }

    public func points() async throws -> PointsSummary {
        try await run { try $0.points() }
    }

    public func redeemPoints(points: Int64, reward: String) async throws -> PointsEntry {
        try await run { try $0.redeemPoints(points: points, reward: reward) }
    }

    public func pointsRules() async throws -> [PointsRule] {
        try await run { try $0.pointsRules() }
    }

    public func addPointsRule(
        kind: PointsKind,
        points: Int64,
        perBag: Int64,
        validFromMs: Int64,
        description: String,
        dailyCap: Int64? = nil
    ) async throws -> PointsRule {
        try await run {
            try $0.addPointsRule(kind: kind, points: points, perBag: perBag, validFromMs: validFromMs, description: description, dailyCap: dailyCap)
        }
    }

    // MARK: Sync

    public enum SyncEvent: Sendable {
        case progressed(ProgressReport)
        case finished(SyncReport)
    }

    /// Enrols this store with the district server using a one-time code from a supervisor.
    public func enrol(serverUrl: String, code: String, settings: SyncSettings = SyncSettings()) async throws -> DeviceIdentity {
        try await store.enrol(serverUrl: serverUrl, code: code, settings: settings, cancel: nil)
    }

    /// Syncs with the server: progress, then the report. The network comes from the store's
    /// `NetworkMonitor` unless `settings` names one; a cancelled Task stops the sync and keeps
    /// what it finished.
    public func sync(settings: SyncSettings = SyncSettings()) -> AsyncThrowingStream<SyncEvent, Error> {
        progressStream(progressed: SyncEvent.progressed, finished: SyncEvent.finished) { store, listener, token in
            try await store.sync(settings: settings, progress: listener, cancel: token)
        }
    }

    public func syncAccount() async throws -> SyncAccount? {
        try await run { try $0.syncAccount() }
    }

    // MARK: Slow work as a stream

    /// Runs `call` (slow work on a core worker thread) as a stream: the core's progress as
    /// `progressed` events, its result as a `finished` event last. Cancelling the consuming Task
    /// (or breaking out of the loop) cancels the work through a `CancelToken` (a cancelled Task
    /// does not reach a uniffi async call), and the core rolls it back. Sync's progress fits the
    /// same shape.
    private func progressStream<R, E>(
        progressed: @escaping @Sendable (ProgressReport) -> E,
        finished: @escaping @Sendable (R) -> E,
        _ call: @escaping @Sendable (PatrolStore, ProgressListener, CancelToken) async throws -> R
    ) -> AsyncThrowingStream<E, Error> {
        AsyncThrowingStream { continuation in
            let token = CancelToken()
            let listener = StreamingProgressListener { continuation.yield(progressed($0)) }
            let store = self.store
            let task = Task {
                do {
                    let result = try await call(store, listener, token)
                    continuation.yield(finished(result))
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

/// Forwards the core's progress reports (on its worker thread) to a closure.
private final class StreamingProgressListener: ProgressListener, @unchecked Sendable {
    private let forward: @Sendable (ProgressReport) -> Void

    init(_ forward: @escaping @Sendable (ProgressReport) -> Void) {
        self.forward = forward
    }

    func onProgress(progress: ProgressReport) {
        forward(progress)
    }
}
