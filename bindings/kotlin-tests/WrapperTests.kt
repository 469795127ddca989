// The idiomatic Kotlin wrapper of android/ (StreetPatrol.kt), on the JVM.
package org.streetpatrol.tests

import java.io.File
import java.util.Collections
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.streetpatrol.StreetPatrol
import org.streetpatrol.ffi.Assignee
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.NewIssue
import org.streetpatrol.ffi.NewPickup
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.ProgressStage
import org.streetpatrol.ffi.Role
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

fun wrapperCoversStreetsIssuesAndPoints() {
    val dir = tempDir()
    val clock = ThreadNotingClock()
    val handles = liveStoreHandles()
    val streetsFile = writeStreets(File(dir, "streets.geojson"), PILOT_STREETS)
    runBlocking {
        StreetPatrol.open(File(dir, "p.db").path, clock = clock).use { patrol ->
            val me = patrol.initDevice("王芳", Role.CHIEF)
            val caller = Thread.currentThread().name

            // The street import as a Flow: progress (bytes, then streets), the report last.
            val events = patrol.importStreets(streetsFile.path).toList()
            val done = events.last()
            check(done is StreetPatrol.StreetImportEvent.Finished) { "ends with the report: $done" }
            assertEq(3uL, (done as StreetPatrol.StreetImportEvent.Finished).report.streets, "streets")
            val stages = events.filterIsInstance<StreetPatrol.StreetImportEvent.Progressed>().map { it.progress.stage }.toSet()
            assertEq(setOf(ProgressStage.READING_FILE, ProgressStage.STORING_STREETS), stages, "progress stages")

            val west = patrol.resolveStreet("八角西街")
            patrol.assignStreet(west, me.userId, Role.CHIEF)
            assertEq(listOf(west), patrol.assignmentsOf(me.userId).map { it.streetId }, "assigned")
            val id = patrol.startPatrol()
            patrol.addFixes(id, walkAlong(listOf(0.0 to 0.0, 0.0 to 600.0), T0))
            patrol.stopPatrol(id)
            val coverage = patrol.patrolCoverage(id)
            check(coverage.streets.single().coveredRatio > 0.9) { "covered through the wrapper: ${coverage.streets}" }

            val photo = patrol.attachPhoto(writeJpeg(File(dir, "p.jpg")).path)
            val issue = patrol.reportIssue(NewIssue(category = "overflowing_bin", lat = LAT, lon = LON, photos = listOf(photo.sha256))).issue
            assertEq(west, issue.location.streetId, "an issue reported without a street lands on the one it matches")
            patrol.assignIssue(issue.id, Assignee.Enforcement)
            assertEq(listOf(issue.id), patrol.listIssues(IssueQuery(streetId = west)).map { it.id }, "listed by street")
            try {
                patrol.acceptIssue(issue.id)
                error("a chief cannot accept an issue given to enforcement")
            } catch (e: PatrolException.NotAllowed) {
                check(e.message!!.contains("assignee")) { e.message!! }
            }
            check(patrol.photoThumbnail(photo.sha256).isNotEmpty()) { "thumbnail bytes" }
            assertEq(4L, patrol.logPickup(NewPickup(lat = LAT, lon = LON, bags = 2u)).points.points, "pickup points")
            assertEq(4L, patrol.points().balance, "balance")

            check(caller !in clock.threads) { "the store was used on the caller's thread $caller" }
            check(clock.threads.any { it.startsWith("DefaultDispatcher-worker") }) { "calls ran on Dispatchers.IO: ${clock.threads}" }
        }
    }
    assertEq(handles, liveStoreHandles(), "use {} closed the wrapper's store")
}
