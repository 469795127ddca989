// A track import is slow work: it runs on a core worker thread, reports progress through the
// ProgressListener foreign trait, and is cancelled with the coroutine.
package org.streetpatrol.tests

import java.io.File
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.streetpatrol.ffi.CancelToken
import org.streetpatrol.ffi.ImportSettings
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolSource
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.ProgressListener
import org.streetpatrol.ffi.ProgressStage

/** Records every progress report and the thread it came on; [firstStoring] completes when storing starts. */
open class RecordingListener : ProgressListener {
    val reports: MutableList<Pair<ProgressReport, Thread>> = Collections.synchronizedList(mutableListOf())
    val firstStoring = CompletableDeferred<Unit>()
    override fun onProgress(progress: ProgressReport) {
        reports += progress to Thread.currentThread()
        if (progress.stage == ProgressStage.STORING_FIXES || progress.stage == ProgressStage.STORING_STREETS) {
            firstStoring.complete(Unit)
        }
    }
}

const val BIG_IMPORT_POINTS = 60_000

/**
 * Starts [import] with a listener, cancels its coroutine at the first report of storing, and
 * returns the listener. The listener holds the worker at that report until the coroutine is
 * cancelled, so the cancel always lands mid-import however the threads are scheduled.
 */
fun cancelWhileStoring(import: suspend (ProgressListener) -> Unit): RecordingListener {
    val cancelled = CountDownLatch(1)
    val listener = object : RecordingListener() {
        override fun onProgress(progress: ProgressReport) {
            super.onProgress(progress)
            if (firstStoring.isCompleted) cancelled.await(30, TimeUnit.SECONDS)
        }
    }
    runBlocking {
        val job = launch { import(listener) }
        withTimeout(60_000) { listener.firstStoring.await() }
        job.cancelAndJoin()
        cancelled.countDown()
    }
    return listener
}

fun importRunsOffTheCallersThread() {
    val dir = tempDir()
    val gpx = writeGpx(File(dir, "long.gpx"), BIG_IMPORT_POINTS)
    freshStore(dir).use { store ->
        val listener = RecordingListener()
        // runBlocking is a single-threaded event loop: the ticker below only runs while the
        // import leaves this thread free.
        runBlocking {
            val caller = Thread.currentThread()
            var ticks = 0
            var importing = true
            val ticker = launch {
                while (importing) {
                    ticks++
                    delay(2)
                }
            }
            val report = store.importTrackFile(gpx.path, ImportSettings(), listener)
            importing = false
            ticker.join()
            assertEq(BIG_IMPORT_POINTS.toULong(), report.stats.fixesRead, "points imported")
            check(ticks >= 3) { "the caller's thread ran other coroutines during the import ($ticks ticks)" }
            // JNA attaches the core's worker thread to the JVM for each callback, so the Java
            // thread objects differ; none of them is the caller's.
            val threads = listener.reports.map { it.second }
            check(threads.isNotEmpty() && threads.none { it == caller }) { "progress came on the caller's thread" }
        }
        val progress = listener.reports.map { it.first }
        assertEq(ProgressStage.READING_FILE, progress.first().stage, "first stage")
        assertEq(gpx.length().toULong(), progress.first().total, "reading counts the file's bytes")
        val storing = progress.filter { it.stage == ProgressStage.STORING_FIXES }
        check(storing.size >= BIG_IMPORT_POINTS / 4096) { "a report every 4096 points: ${storing.size}" }
        check(storing.zipWithNext().all { (a, b) -> a.done <= b.done }) { "progress only grows" }
        assertEq(ProgressReport(ProgressStage.STORING_FIXES, BIG_IMPORT_POINTS.toULong(), BIG_IMPORT_POINTS.toULong()), storing.last(), "last report")
    }
}

fun cancellingAnImportStoresNothing() {
    val dir = tempDir()
    val gpx = writeGpx(File(dir, "long.gpx"), BIG_IMPORT_POINTS)
    freshStore(dir).use { store ->
        val listener = cancelWhileStoring { store.importTrackFile(gpx.path, ImportSettings(), it) }
        // The next call waits for the worker to give up and roll back.
        assertEq(0, runBlocking { store.listPatrols() }.size, "the cancelled import left no patrol")
        val storing = listener.reports.map { it.first }.filter { it.stage == ProgressStage.STORING_FIXES }
        check(storing.none { it.done == it.total }) { "the import stopped before the end: ${storing.last()}" }
        // Cancelled through a CancelToken (what a Swift host does): the call fails with Interrupted.
        val token = CancelToken()
        val cancelling = object : ProgressListener {
            override fun onProgress(progress: ProgressReport) {
                if (progress.stage == ProgressStage.STORING_FIXES) token.cancel()
            }
        }
        val interrupted = assertThrows<PatrolException.Interrupted>("an import cancelled by its token") {
            runBlocking { store.importTrackFile(gpx.path, ImportSettings(), cancelling, token) }
        }
        check(interrupted.reason.contains("interrupted")) { interrupted.reason }
        assertEq(0, runBlocking { store.listPatrols() }.size, "the token-cancelled import left no patrol")
        // The store is fine afterwards: the same file imports whole.
        val report = runBlocking { store.importTrackFile(gpx.path) }
        assertEq(BIG_IMPORT_POINTS.toULong(), report.stats.fixesRead, "imported after the cancel")
        val info = store.patrol(report.patrolId)
        assertEq(PatrolSource.IMPORTED to PatrolSource.IMPORTED, info.source to info.origin, "an imported patrol says so")
    }
}

fun aThrowingListenerDoesNotBreakTheImport() {
    val dir = tempDir()
    val gpx = writeGpx(File(dir, "walk.gpx"), 10_000)
    freshStore(dir).use { store ->
        var calls = 0
        val throwing = object : ProgressListener {
            override fun onProgress(progress: ProgressReport) {
                calls++
                throw IllegalStateException("the app's listener has a bug")
            }
        }
        val report = runBlocking { store.importTrackFile(gpx.path, ImportSettings(), throwing) }
        assertEq(10_000uL, report.stats.fixesRead, "imported anyway")
        assertEq(1, calls, "a listener that threw is not called again")
    }
}
