// The idiomatic Kotlin wrapper of android/ (StreetPatrol.kt), on the JVM.
package org.streetpatrol.tests

import java.io.File
import java.util.Collections
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.streetpatrol.StreetPatrol
import org.streetpatrol.ffi.WallClock
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.ProgressStage
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.liveStoreHandles

/** A clock that notes which threads ask it the time: the threads the core runs on. */
class ThreadNotingClock : WallClock {
    val threads: MutableSet<String> = Collections.synchronizedSet(mutableSetOf())
    override fun nowMs(): Long {
        threads += Thread.currentThread().name
        return T0
    }
}

fun wrapperRunsOnIoAndStreamsProgress() {
    val dir = tempDir()
    val clock = ThreadNotingClock()
    val handles = liveStoreHandles()
    runBlocking {
        StreetPatrol.open(File(dir, "p.db").path, clock = clock).use { patrol ->
            patrol.initDevice("王芳", Role.CHIEF)
            val id = patrol.startPatrol(listOf("八角西街"))
            val caller = Thread.currentThread().name
            check(caller !in clock.threads) { "the store was used on the caller's thread $caller" }
            check(clock.threads.all { it.startsWith("DefaultDispatcher-worker") }) { "on Dispatchers.IO: ${clock.threads}" }

            // Location results arrive batched (FusedLocationProvider with a max update delay).
            for (batch in walk(600).chunked(60)) patrol.addFixes(id, batch)
            val stats = patrol.stopPatrol(id)
            assertEq(600uL, stats.fixesRead, "fixes through the wrapper")
            try {
                patrol.pausePatrol(id)
                error("pausing a stopped patrol must fail")
            } catch (e: PatrolException.InvalidState) {
                check(e.message!!.contains("stopped")) { e.message!! }
            }

            val gpx = writeGpx(File(dir, "walk.gpx"), 20_000)
            val events = patrol.importTrack(gpx.path).toList()
            val last = events.last()
            check(last is StreetPatrol.ImportEvent.Finished) { "the flow ends with the report: $last" }
            assertEq(20_000uL, (last as StreetPatrol.ImportEvent.Finished).report.stats.fixesRead, "imported")
            val progressed = events.filterIsInstance<StreetPatrol.ImportEvent.Progressed>().map { it.progress }
            check(progressed.any { it.stage == ProgressStage.STORING_FIXES }) { "progress in the flow: $progressed" }
            assertEq(2, patrol.listPatrols().size, "recorded + imported")
        }
    }
    assertEq(handles, liveStoreHandles(), "use {} closed the wrapper's store")
}
