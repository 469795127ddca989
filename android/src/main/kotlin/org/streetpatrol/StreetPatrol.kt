package org.streetpatrol

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.channelFlow
import kotlinx.coroutines.withContext
import org.streetpatrol.ffi.BatchOutcome
import org.streetpatrol.ffi.WallClock
import org.streetpatrol.ffi.Datum
import org.streetpatrol.ffi.DeviceIdentity
import org.streetpatrol.ffi.ExportFixes
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.FixOutcome
import org.streetpatrol.ffi.ImportReport
import org.streetpatrol.ffi.ImportSettings
import org.streetpatrol.ffi.LatLon
import org.streetpatrol.ffi.NetworkMonitor
import org.streetpatrol.ffi.NetworkState
import org.streetpatrol.ffi.PatrolId
import org.streetpatrol.ffi.PatrolInfo
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.ProgressListener
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.SamplingAdvice
import org.streetpatrol.ffi.StoreSettings
import org.streetpatrol.ffi.StoredFix
import org.streetpatrol.ffi.SubdistrictId
import org.streetpatrol.ffi.TrackExportFormat
import org.streetpatrol.ffi.TrackStats

/**
 * The StreetPatrol core for Kotlin apps: the generated bindings ([PatrolStore]) behind suspend
 * functions that run on [Dispatchers.IO] (SQLite commits must not run on the main thread), slow
 * work as a [Flow] of progress, and [AutoCloseable] so `use { }` closes the store.
 *
 * Errors are the generated `PatrolException` subclasses (`InvalidInput`, `NotFound`,
 * `InvalidState`, `NotADatabase`, `DatabaseTooNew`, `Io`, `Interrupted`, `Storage`, `Internal`),
 * each with a message saying what was wrong and what to do.
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
    fun importTrack(path: String, settings: ImportSettings = ImportSettings()): Flow<ImportEvent> = channelFlow {
        val listener = object : ProgressListener {
            override fun onProgress(progress: ProgressReport) {
                trySend(ImportEvent.Progressed(progress))
            }
        }
        send(ImportEvent.Finished(store.importTrackFile(path, settings, listener)))
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
