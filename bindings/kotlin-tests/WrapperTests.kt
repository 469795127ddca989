// The Kotlin glue of android/ (StreetPatrol.kt) on the JVM: Flows over the core's observers and
// over slow work with progress.
package org.streetpatrol.tests

import java.io.File
import java.util.Collections
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.streetpatrol.ProgressEvent
import org.streetpatrol.importingStreets
import org.streetpatrol.importingTrack
import org.streetpatrol.issueUpdates
import org.streetpatrol.recordingUpdates
import org.streetpatrol.ffi.ImportReport
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.IssueSummary
import org.streetpatrol.ffi.PatrolState
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.ProgressStage
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.StreetImportReport
import org.streetpatrol.ffi.WallClock
import org.streetpatrol.ffi.liveStoreHandles

/** A clock that notes which threads ask it the time: the threads the core runs on. */
class ThreadNotingClock : WallClock {
    val threads: MutableSet<String> = Collections.synchronizedSet(mutableSetOf())
    override fun nowMs(): Long {
        threads += Thread.currentThread().name
        return T0
    }
}

/** Linux threads of this process whose name starts with [prefix] (Rust names its threads). */
fun nativeThreads(prefix: String): Int =
    File("/proc/self/task").listFiles().orEmpty().count { task ->
        runCatching { File(task, "comm").readText().trim() }.getOrDefault("").startsWith(prefix)
    }

/** Waits up to 10 s until no native thread's name starts with [prefix]. */
fun awaitNoThreads(prefix: String, what: String) {
    val until = System.nanoTime() + 10_000_000_000L
    while (nativeThreads(prefix) > 0) {
        check(System.nanoTime() < until) { "$what: ${nativeThreads(prefix)} threads named $prefix* still run" }
        Thread.sleep(5)
    }
}

fun kotlinFlowsOverObserversAndProgress() {
    val dir = tempDir()
    val handles = liveStoreHandles()
    val streetsFile = writeStreets(File(dir, "streets.geojson"), PILOT_STREETS)
    runBlocking {
        openStore(File(dir, "p.db").path, clock = FakeClock(T0)).use { store ->
            store.initDevice("王芳", Role.CHIEF)

            // The issue list as a Flow: the current list, then the list after a report.
            assertEq(0, nativeThreads("patrol-observe"), "no observer before collecting")
            val lists = Channel<List<IssueSummary>>(Channel.UNLIMITED)
            val collector = launch(Dispatchers.Default) { store.issueUpdates(IssueQuery(openOnly = true)).collect { lists.send(it) } }
            assertEq(emptyList(), withTimeout(10_000) { lists.receive() }, "the current list first")
            assertEq(1, nativeThreads("patrol-observe"), "collecting started one observer")
            val id = store.reportIssue(litterAt(0.0)).issue.id
            assertEq(listOf(id), withTimeout(10_000) { lists.receive() }.map { it.id }, "then the change")
            collector.cancelAndJoin()
            awaitNoThreads("patrol-observe", "cancelling the collector stops the observer")

            // first() takes the current state and stops the observer again.
            assertEq(null, store.recordingUpdates().first().patrol, "no patrol open")
            val patrol = store.startPatrol(emptyList())
            val state = store.recordingUpdates().first()
            assertEq(patrol to PatrolState.RECORDING, state.patrol?.id to state.patrol?.state, "recording")
            store.addFixes(patrol, walk(600))
            store.stopPatrol(patrol)
            awaitNoThreads("patrol-observe", "first() stops the observer")

            // Slow work as a Flow of progress ending with the result.
            val gpx = writeGpx(File(dir, "walk.gpx"), 20_000)
            val events = store.importingTrack(gpx.path).toList()
            val last = events.last()
            check(last is ProgressEvent.Finished<ImportReport>) { "the flow ends with the report: $last" }
            assertEq(20_000uL, (last as ProgressEvent.Finished<ImportReport>).result.stats.fixesRead, "imported")
            val stages = events.filterIsInstance<ProgressEvent.Progressed>().map { it.progress.stage }.toSet()
            check(ProgressStage.STORING_FIXES in stages) { "progress in the flow: $stages" }
            assertEq(2, store.listPatrols().size, "recorded + imported")

            val streets = store.importingStreets(streetsFile.path).toList()
            val done = streets.last()
            check(done is ProgressEvent.Finished<StreetImportReport>) { "ends with the report: $done" }
            assertEq(3uL, (done as ProgressEvent.Finished<StreetImportReport>).result.streets, "streets")
            val streetStages = streets.filterIsInstance<ProgressEvent.Progressed>().map { it.progress.stage }.toSet()
            assertEq(setOf(ProgressStage.READING_FILE, ProgressStage.STORING_STREETS), streetStages, "progress stages")
        }
    }
    assertEq(handles, liveStoreHandles(), "use {} closed the store")
}

/** The slow calls are suspend functions that run on a core worker thread, not the caller's. */
fun slowCallsRunOnACoreWorkerThread() {
    val dir = tempDir()
    val clock = ThreadNotingClock()
    openStore(File(dir, "p.db").path, clock = clock).use { store ->
        store.initDevice("王芳", Role.CHIEF)
        store.reportIssue(litterAt(0.0))
        clock.threads.clear()
        val caller = Thread.currentThread().name
        runBlocking {
            assertEq(0, store.listIssues(IssueQuery(overdue = true)).size, "not overdue at the time it was reported")
            assertEq(1, store.listIssues().size, "listed")
            assertEq(1uL, store.countIssues(IssueQuery()), "counted")
        }
        check(caller !in clock.threads) { "the store was used on the caller's thread $caller: ${clock.threads}" }
        check(clock.threads.isNotEmpty()) { "the clock was asked (overdue is as of now)" }
    }
}
