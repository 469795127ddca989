package org.streetpatrol

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.channelFlow
import org.streetpatrol.ffi.ImportReport
import org.streetpatrol.ffi.ImportSettings
import org.streetpatrol.ffi.IssueListListener
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.IssueSummary
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.ProgressListener
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.RecordingState
import org.streetpatrol.ffi.RecordingStateListener
import org.streetpatrol.ffi.StreetImportReport
import org.streetpatrol.ffi.StreetImportSettings
import org.streetpatrol.ffi.SyncReport
import org.streetpatrol.ffi.SyncSettings
import org.streetpatrol.ffi.TaskHandle

// Kotlin Flows over the generated PatrolStore (org.streetpatrol.ffi). Apps call PatrolStore
// directly for everything else: the slow calls are `suspend` there already (they run on a core
// worker thread), the rest are quick. This file uses no Android API, so the JVM tests
// (bindings/tests/kotlin.rs) compile and run it; the Android glue is in AndroidPlatform.kt.

/**
 * The issues matching [query], as a Flow: the current list first, then the list each time it
 * changes (an issue reported, acted on, imported or synced), from the core's observer
 * (`observeIssues`). Collecting starts the observer and cancelling the collector stops it. A slow
 * collector gets the newest list (conflated). A failing query ends the flow with its
 * [PatrolException].
 */
fun PatrolStore.issueUpdates(query: IssueQuery = IssueQuery()): Flow<List<IssueSummary>> =
    observed { send, fail ->
        observeIssues(query, object : IssueListListener {
            override fun onIssues(issues: List<IssueSummary>) = send(issues)
            override fun onError(error: PatrolException) = fail(error)
        })
    }

/**
 * The recording state (the patrol open on this device, its motion and location interval), as a
 * Flow like [issueUpdates]: the current state first, then each change.
 */
fun PatrolStore.recordingUpdates(): Flow<RecordingState> =
    observed { send, fail ->
        observeRecording(object : RecordingStateListener {
            override fun onState(state: RecordingState) = send(state)
            override fun onError(error: PatrolException) = fail(error)
        })
    }

/**
 * An observer as a conflated [callbackFlow]: [start] registers a listener that calls `send` with
 * each state and `fail` with an error; the [TaskHandle] it returns is cancelled and released when
 * the collector stops.
 */
private fun <T> observed(start: (send: (T) -> Unit, fail: (Throwable) -> Unit) -> TaskHandle): Flow<T> =
    callbackFlow {
        val handle = start({ trySend(it) }, { close(it) })
        awaitClose {
            handle.cancel()
            handle.close()
        }
    }.buffer(Channel.CONFLATED)

/** What slow work reports while it runs, then its result, once, at the end. */
sealed interface ProgressEvent<out R> {
    data class Progressed(val progress: ProgressReport) : ProgressEvent<Nothing>
    data class Finished<R>(val result: R) : ProgressEvent<R>
}

/**
 * Imports a GPX or PLT file (`importTrackFile`) as a cold Flow: collecting starts the import on a
 * core worker thread, progress arrives as [ProgressEvent.Progressed] and the report as
 * [ProgressEvent.Finished] last. Cancelling the collector cancels the import; nothing of it is
 * stored.
 */
fun PatrolStore.importingTrack(path: String, settings: ImportSettings = ImportSettings()): Flow<ProgressEvent<ImportReport>> =
    progressFlow { importTrackFile(path, settings, it) }

/**
 * Imports a street network file (`.osm` or `.geojson`, `importStreetFile`) like [importingTrack]:
 * bytes read, then streets stored, the report last; cancelling rolls it back.
 */
fun PatrolStore.importingStreets(path: String, settings: StreetImportSettings = StreetImportSettings()): Flow<ProgressEvent<StreetImportReport>> =
    progressFlow { importStreetFile(path, settings, it) }

/**
 * Syncs with the server (`sync`) as a cold Flow of progress ending with the report. The network
 * comes from the store's `NetworkMonitor` unless [settings] names one. Cancelling the collector
 * stops the sync; what it finished is kept.
 */
fun PatrolStore.syncing(settings: SyncSettings = SyncSettings()): Flow<ProgressEvent<SyncReport>> =
    progressFlow { sync(settings, it) }

/**
 * Slow work as a cold Flow: [call] runs when collected (its suspend call returns when the core's
 * worker is done); progress is dropped, never the result, when the collector is slow; cancelling
 * the collector cancels the call (uniffi drops the future and the core stops).
 */
private fun <R> progressFlow(call: suspend (ProgressListener) -> R): Flow<ProgressEvent<R>> = channelFlow {
    val listener = object : ProgressListener {
        override fun onProgress(progress: ProgressReport) {
            trySend(ProgressEvent.Progressed(progress))
        }
    }
    send(ProgressEvent.Finished(call(listener)))
}
