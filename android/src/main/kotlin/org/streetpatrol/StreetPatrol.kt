package org.streetpatrol

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.channelFlow
import kotlinx.coroutines.withContext
import org.streetpatrol.ffi.Assignee
import org.streetpatrol.ffi.Assignment
import org.streetpatrol.ffi.BatchOutcome
import org.streetpatrol.ffi.CategorySpec
import org.streetpatrol.ffi.CheckIn
import org.streetpatrol.ffi.Datum
import org.streetpatrol.ffi.DeviceIdentity
import org.streetpatrol.ffi.ExportFixes
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.FixOutcome
import org.streetpatrol.ffi.ImportReport
import org.streetpatrol.ffi.ImportSettings
import org.streetpatrol.ffi.IssueId
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.IssueSummary
import org.streetpatrol.ffi.IssueView
import org.streetpatrol.ffi.LatLon
import org.streetpatrol.ffi.MergeOutcome
import org.streetpatrol.ffi.NetworkMonitor
import org.streetpatrol.ffi.NetworkState
import org.streetpatrol.ffi.NewIssue
import org.streetpatrol.ffi.NewPickup
import org.streetpatrol.ffi.PatrolCoverage
import org.streetpatrol.ffi.PatrolId
import org.streetpatrol.ffi.PatrolInfo
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.PeriodCoverage
import org.streetpatrol.ffi.PhotoInfo
import org.streetpatrol.ffi.PhotoStage
import org.streetpatrol.ffi.Pickup
import org.streetpatrol.ffi.PickupOutcome
import org.streetpatrol.ffi.PointMatch
import org.streetpatrol.ffi.PointsEntry
import org.streetpatrol.ffi.PointsKind
import org.streetpatrol.ffi.RejectedItem
import org.streetpatrol.ffi.SyncAccount
import org.streetpatrol.ffi.SyncReport
import org.streetpatrol.ffi.SyncSettings
import org.streetpatrol.ffi.PointsRule
import org.streetpatrol.ffi.PointsSummary
import org.streetpatrol.ffi.ProgressListener
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.ReportOutcome
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.SamplingAdvice
import org.streetpatrol.ffi.ScanOutcome
import org.streetpatrol.ffi.ScanPosition
import org.streetpatrol.ffi.Segment
import org.streetpatrol.ffi.Signboard
import org.streetpatrol.ffi.StoreSettings
import org.streetpatrol.ffi.StoredFix
import org.streetpatrol.ffi.Street
import org.streetpatrol.ffi.StreetId
import org.streetpatrol.ffi.StreetImportReport
import org.streetpatrol.ffi.StreetImportSettings
import org.streetpatrol.ffi.StreetInfo
import org.streetpatrol.ffi.SubdistrictId
import org.streetpatrol.ffi.TrackExportFormat
import org.streetpatrol.ffi.TrackStats
import org.streetpatrol.ffi.UserId
import org.streetpatrol.ffi.WallClock

/**
 * The StreetPatrol core for Kotlin apps: the generated bindings ([PatrolStore]) behind suspend
 * functions that run on [Dispatchers.IO] (SQLite commits must not run on the main thread), slow
 * work as a [Flow] of progress, and [AutoCloseable] so `use { }` closes the store.
 *
 * Errors are the generated `PatrolException` subclasses (`InvalidInput`, `NotFound`,
 * `InvalidState`, `NotADatabase`, `DatabaseTooNew`, `Io`, `NotAllowed`, `Interrupted`, `Storage`,
 * `Internal`), each with a message saying what was wrong and what to do. `NotAllowed` is the
 * workflow refusing an action for the user's role (a steward verifying): show its message.
 *
 * This file uses no Android API, so the JVM tests (bindings/tests/kotlin.rs) compile and run it;
 * the Android glue (locations, connectivity, the database path) is in AndroidPlatform.kt.
 */
class StreetPatrol private constructor(
    /** The generated store, for anything this wrapper does not cover yet. */
    val store: PatrolStore,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    companion object {
        /**
         * Opens (creating if needed) the store at [path]. [clock] replaces the system clock in
         * tests; [network] tells sync which network the device is on.
         */
        suspend fun open(
            path: String,
            settings: StoreSettings = StoreSettings(),
            clock: WallClock? = null,
            network: NetworkMonitor? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): StreetPatrol = withContext(io) {
            StreetPatrol(PatrolStore.open(path, settings, clock, network), io)
        }
    }

    private suspend inline fun <T> onIo(crossinline call: (PatrolStore) -> T): T =
        withContext(io) { call(store) }

    // --- This device

    suspend fun initDevice(name: String, role: Role, subdistrictId: SubdistrictId? = null): DeviceIdentity =
        onIo { it.initDevice(name, role, subdistrictId) }

    suspend fun device(): DeviceIdentity? = onIo { it.device() }

    /** The network state the [NetworkMonitor] reports; null without one. */
    fun networkState(): NetworkState? = store.networkState()

    // --- Recording

    suspend fun startPatrol(plannedStreets: List<String> = emptyList()): PatrolId =
        onIo { it.startPatrol(plannedStreets) }

    /** The patrol left open (recording or paused), e.g. after the app was killed. */
    suspend fun openPatrol(): PatrolId? = onIo { it.openPatrol() }

    /** One fix, durable when this returns. Prefer [addFixes] for batched location results. */
    suspend fun addFix(patrolId: PatrolId, fix: Fix): FixOutcome = onIo { it.addFix(patrolId, fix) }

    /** A batch of fixes in one transaction: all stored, or none if one is invalid. */
    suspend fun addFixes(patrolId: PatrolId, fixes: List<Fix>): BatchOutcome =
        onIo { it.addFixes(patrolId, fixes) }

    suspend fun pausePatrol(patrolId: PatrolId) = onIo { it.pausePatrol(patrolId) }

    suspend fun resumePatrol(patrolId: PatrolId) = onIo { it.resumePatrol(patrolId) }

    suspend fun stopPatrol(patrolId: PatrolId): TrackStats = onIo { it.stopPatrol(patrolId) }

    /** The location interval to use now, e.g. when (re)starting location updates. */
    suspend fun samplingAdvice(patrolId: PatrolId): SamplingAdvice = onIo { it.samplingAdvice(patrolId) }

    // --- Reading back

    suspend fun patrol(patrolId: PatrolId): PatrolInfo = onIo { it.patrol(patrolId) }

    suspend fun listPatrols(): List<PatrolInfo> = onIo { it.listPatrols() }

    suspend fun fixes(patrolId: PatrolId): List<StoredFix> = onIo { it.fixes(patrolId) }

    suspend fun trackStats(patrolId: PatrolId): TrackStats = onIo { it.trackStats(patrolId) }

    suspend fun simplifiedTrack(patrolId: PatrolId): List<List<LatLon>> = onIo { it.simplifiedTrack(patrolId) }

    // --- Files

    suspend fun exportTrack(
        patrolId: PatrolId,
        format: TrackExportFormat,
        datum: Datum = Datum.WGS84,
        which: ExportFixes = ExportFixes.KEPT,
    ): String = onIo { it.exportTrack(patrolId, format, datum, which) }

    /** What an import reports while it runs, then once at the end. */
    sealed interface ImportEvent {
        data class Progressed(val progress: ProgressReport) : ImportEvent
        data class Finished(val report: ImportReport) : ImportEvent
    }

    /**
     * Imports a GPX or PLT file. Cold: collecting starts the import (on a core worker thread,
     * never the collector's), emits [ImportEvent.Progressed] as it goes and [ImportEvent.Finished]
     * last. Cancelling the collector cancels the import and nothing of it is stored. Progress
     * events are dropped, never the result, when the collector is slow.
     */
    fun importTrack(path: String, settings: ImportSettings = ImportSettings()): Flow<ImportEvent> =
        progressFlow(ImportEvent::Progressed, ImportEvent::Finished) { store.importTrackFile(path, settings, it) }

    // --- Streets

    /** What a street import reports while it runs, then once at the end. */
    sealed interface StreetImportEvent {
        data class Progressed(val progress: ProgressReport) : StreetImportEvent
        data class Finished(val report: StreetImportReport) : StreetImportEvent
    }

    /**
     * Imports a street network file (`.osm` or `.geojson`), like [importTrack]: a cold [Flow] of
     * progress (bytes read, then streets stored) ending with the report; cancelling the collector
     * rolls the import back.
     */
    fun importStreets(path: String, settings: StreetImportSettings = StreetImportSettings()): Flow<StreetImportEvent> =
        progressFlow(StreetImportEvent::Progressed, StreetImportEvent::Finished) { store.importStreetFile(path, settings, it) }

    suspend fun listStreets(): List<StreetInfo> = onIo { it.listStreets() }

    suspend fun street(streetId: StreetId): Street = onIo { it.street(streetId) }

    /** A street id, or a name only one street has. */
    suspend fun resolveStreet(reference: String): StreetId = onIo { it.resolveStreet(reference) }

    /** Every segment as a polyline, for drawing the network. */
    suspend fun streetSegments(): List<Segment> = onIo { it.streetSegments() }

    suspend fun exportStreetsGeojson(): String = onIo { it.exportStreetsGeojson() }

    /** Makes [userId] the street's chief (returns the chief replaced) or one of its stewards. */
    suspend fun assignStreet(streetId: StreetId, userId: String, role: Role): String? =
        onIo { it.assignStreet(streetId, userId, role) }

    suspend fun unassignStreet(streetId: StreetId, userId: String, role: Role): Boolean =
        onIo { it.unassignStreet(streetId, userId, role) }

    suspend fun streetAssignments(): List<Assignment> = onIo { it.streetAssignments() }

    suspend fun assignmentsOf(userId: String): List<Assignment> = onIo { it.assignmentsOf(userId) }

    suspend fun matchPoint(lat: Double, lon: Double, accuracyM: Double? = null): PointMatch? =
        onIo { it.matchPoint(lat, lon, accuracyM) }

    // --- Coverage

    /** What a patrol covered of each assigned street (tens of milliseconds for a day's track). */
    suspend fun patrolCoverage(patrolId: PatrolId): PatrolCoverage = onIo { it.patrolCoverage(patrolId) }

    /** What the patrols started in `[fromMs, toMs)` covered together, for [userId] or everyone. */
    suspend fun periodCoverage(fromMs: Long, toMs: Long, userId: String? = null): PeriodCoverage =
        onIo { it.periodCoverage(fromMs, toMs, userId) }

    // --- Signboards

    suspend fun issueSignboard(streetId: StreetId, position: LatLon? = null): Signboard =
        onIo { it.issueSignboard(streetId, position) }

    suspend fun signboardsOf(streetId: StreetId): List<Signboard> = onIo { it.signboardsOf(streetId) }

    suspend fun districtPublicKey(): String = onIo { it.districtPublicKey() }

    suspend fun trustDistrictKey(publicKey: String) = onIo { it.trustDistrictKey(publicKey) }

    /** Verifies a scanned QR (link or code); a chief or steward on patrol checks in. */
    suspend fun scanSignboard(scanned: String, position: ScanPosition? = null): ScanOutcome =
        onIo { it.scanSignboard(scanned, position) }

    suspend fun checkIns(patrolId: PatrolId): List<CheckIn> = onIo { it.checkIns(patrolId) }

    // --- Photos

    /** Copies a JPEG or PNG file into the photo store (on a core worker thread); name it by `sha256`. */
    suspend fun attachPhoto(path: String): PhotoInfo = store.attachPhoto(path)

    suspend fun photo(sha256: String): PhotoInfo = onIo { it.photo(sha256) }

    /** JPEG bytes (`BitmapFactory.decodeByteArray`). */
    suspend fun photoThumbnail(sha256: String): ByteArray = onIo { it.photoThumbnail(sha256) }

    // --- Issues

    suspend fun reportIssue(issue: NewIssue): ReportOutcome = onIo { it.reportIssue(issue) }

    suspend fun possibleDuplicates(issueId: IssueId): List<IssueSummary> = onIo { it.possibleDuplicates(issueId) }

    suspend fun issue(issueId: IssueId): IssueView = onIo { it.issue(issueId) }

    suspend fun listIssues(query: IssueQuery = IssueQuery()): List<IssueSummary> = onIo { it.listIssues(query) }

    suspend fun countIssues(query: IssueQuery = IssueQuery()): ULong = onIo { it.countIssues(query) }

    suspend fun assignIssue(issueId: IssueId, to: Assignee, note: String? = null): IssueView =
        onIo { it.assignIssue(issueId, to, note) }

    suspend fun returnIssue(issueId: IssueId, reason: String): IssueView = onIo { it.returnIssue(issueId, reason) }

    suspend fun acceptIssue(issueId: IssueId): IssueView = onIo { it.acceptIssue(issueId) }

    /** The fix, with an after-photo taken within 100 m ([takenAt] when it has no GPS of its own). */
    suspend fun resolveIssue(issueId: IssueId, photoSha256: String, takenAt: LatLon? = null, note: String? = null): IssueView =
        onIo { it.resolveIssue(issueId, photoSha256, takenAt, note) }

    suspend fun verifyIssue(issueId: IssueId, note: String? = null): IssueView = onIo { it.verifyIssue(issueId, note) }

    suspend fun reopenIssue(issueId: IssueId, reason: String): IssueView = onIo { it.reopenIssue(issueId, reason) }

    suspend fun markDuplicate(issueId: IssueId, original: IssueId): IssueView = onIo { it.markDuplicate(issueId, original) }

    suspend fun cancelIssue(issueId: IssueId, reason: String): IssueView = onIo { it.cancelIssue(issueId, reason) }

    suspend fun commentIssue(issueId: IssueId, text: String): IssueView = onIo { it.commentIssue(issueId, text) }

    suspend fun addIssuePhoto(issueId: IssueId, sha256: String, stage: PhotoStage): IssueView =
        onIo { it.addIssuePhoto(issueId, sha256, stage) }

    /** The whole document, for another phone (share it; [importIssue] there merges it). */
    suspend fun exportIssue(issueId: IssueId): ByteArray = onIo { it.exportIssue(issueId) }

    suspend fun importIssue(document: ByteArray): MergeOutcome = onIo { it.importIssue(document) }

    suspend fun exportIssueFile(issueId: IssueId, path: String): ULong = onIo { it.exportIssueFile(issueId, path) }

    suspend fun importIssueFile(path: String): MergeOutcome = onIo { it.importIssueFile(path) }

    suspend fun issueCategories(): List<CategorySpec> = onIo { it.issueCategories() }

    suspend fun addIssueCategory(code: String, nameZh: String, nameEn: String, dueHours: UInt) =
        onIo { it.addIssueCategory(code, nameZh, nameEn, dueHours) }

    // --- Pickups and points

    suspend fun logPickup(pickup: NewPickup): PickupOutcome = onIo { it.logPickup(pickup) }

    suspend fun pickups(limit: UInt = 100u): List<Pickup> = onIo { it.pickups(limit) }

    suspend fun points(): PointsSummary = onIo { it.points() }

    suspend fun redeemPoints(points: Long, reward: String): PointsEntry = onIo { it.redeemPoints(points, reward) }

    suspend fun pointsRules(): List<PointsRule> = onIo { it.pointsRules() }

    suspend fun addPointsRule(
        kind: PointsKind,
        points: Long,
        perBag: Long,
        validFromMs: Long,
        description: String,
        dailyCap: Long? = null,
    ): PointsRule = onIo { it.addPointsRule(kind, points, perBag, validFromMs, description, dailyCap) }

    // --- Sync

    /** What a sync reports while it runs, then once at the end. */
    sealed interface SyncEvent {
        data class Progressed(val progress: ProgressReport) : SyncEvent
        data class Finished(val report: SyncReport) : SyncEvent
    }

    /** Enrols this store with the district server using a one-time code from a supervisor. */
    suspend fun enrol(serverUrl: String, code: String, settings: SyncSettings = SyncSettings()): DeviceIdentity =
        withContext(io) { store.enrol(serverUrl, code, settings) }

    /**
     * Syncs with the server as a cold [Flow] of progress ending with the report. The network
     * comes from the [NetworkMonitor] the store was opened with unless [settings] names one:
     * metadata goes on any network, photo originals and other patrols' fixes wait for wifi.
     * Cancelling the collector stops the sync; what it finished is kept.
     */
    fun sync(settings: SyncSettings = SyncSettings()): Flow<SyncEvent> =
        progressFlow(SyncEvent::Progressed, SyncEvent::Finished) { store.sync(settings, it) }

    suspend fun syncAccount(): SyncAccount? = onIo { it.syncAccount() }

    suspend fun rejectedSyncItems(): List<RejectedItem> = onIo { it.rejectedSyncItems() }

    /**
     * Slow work as a cold [Flow]: [call] runs when collected (its suspend call returns when the
     * core's worker is done), the core's progress is emitted as [progressed] events and its
     * result as a [finished] event last. Progress is dropped, never the result, when the
     * collector is slow; cancelling the collector cancels the call (uniffi drops the future and
     * the core rolls back). Sync's progress fits the same shape.
     */
    private fun <R, E> progressFlow(
        progressed: (ProgressReport) -> E,
        finished: (R) -> E,
        call: suspend (ProgressListener) -> R,
    ): Flow<E> = channelFlow {
        val listener = object : ProgressListener {
            override fun onProgress(progress: ProgressReport) {
                trySend(progressed(progress))
            }
        }
        send(finished(call(listener)))
        close()
        awaitClose()
    }

    /**
     * Releases the store; the database closes (SQLite checkpoints the WAL) once no call, such as
     * an import finishing its rollback, is still using it. Calls after this throw
     * IllegalStateException.
     */
    override fun close() = store.close()
}
