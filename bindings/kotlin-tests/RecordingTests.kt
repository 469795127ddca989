// Recording a patrol through the generated bindings, as the app does.
package org.streetpatrol.tests

import java.io.File
import kotlinx.coroutines.runBlocking
import org.streetpatrol.ffi.Datum
import org.streetpatrol.ffi.ExportFixes
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.FixVerdict
import org.streetpatrol.ffi.ImportSettings
import org.streetpatrol.ffi.Motion
import org.streetpatrol.ffi.PatrolSource
import org.streetpatrol.ffi.PatrolState
import org.streetpatrol.ffi.TrackExportFormat

fun recordAThousandFixPatrol() {
    freshStore().use { store ->
        val id = store.startPatrol(listOf("八角西街", "八角北路"))
        assertEq(id, store.openPatrol(), "the open patrol")
        val fixes = walk(1000)
        // Every fix one call, as a phone without batching would; three spikes 300 m off the line.
        for ((i, fix) in fixes.withIndex()) {
            val f = if (i == 250 || i == 500 || i == 750) fix.copy(lat = fix.lat + 300.0 / M_PER_DEG) else fix
            val out = store.addFix(id, f)
            assertEq(i.toLong(), out.seq, "seq of fix $i")
            val expected = if (f === fix) FixVerdict.KEPT else FixVerdict.IMPOSSIBLE_SPEED
            assertEq(expected, out.verdict, "verdict of fix $i")
        }
        val live = store.trackStats(id)
        assertEq(1000uL, live.fixesRead, "fixes read while recording")
        val stats = store.stopPatrol(id)
        assertEq(1000uL, stats.fixesRead, "fixes read")
        assertEq(997uL, stats.fixesKept, "fixes kept")
        assertEq(3uL, stats.rejected[FixVerdict.IMPOSSIBLE_SPEED], "impossible-speed rejections")
        assertEq(0uL, stats.rejected[FixVerdict.JUMP], "jumps (every rejecting verdict is listed)")
        assertEq(1uL, stats.segments, "segments")
        // The kept line, measured here independently: 999 steps of 1.4 m.
        val kept = fixes.filterIndexed { i, _ -> i != 250 && i != 500 && i != 750 }
        val expected = kept.zipWithNext { a, b -> haversineM(a.lat, a.lon, b.lat, b.lon) }.sum()
        assertNear(expected, stats.distanceM, 0.5, "distance (m)")
        check(stats.rawDistanceM > stats.distanceM + 1000.0) { "the spikes add ~1.8 km raw: ${stats.rawDistanceM}" }
        assertNear(999.0, stats.durationS, 1e-9, "duration (s)")
        assertEq(T0, stats.startMs, "start")
        val info = store.patrol(id)
        assertEq(PatrolState.STOPPED, info.state, "state")
        assertEq(PatrolSource.RECORDED, info.source, "source")
        assertEq(PatrolSource.RECORDED, info.origin, "origin")
        assertEq(listOf("八角北路", "八角西街"), info.plannedStreets, "planned streets")
        assertEq(stats, info.summary, "the stored summary is what stop returned")
        assertEq(null, store.openPatrol(), "no open patrol after the stop")
        val stored = runBlocking { store.fixes(id) }
        assertEq(1000, stored.size, "stored fixes")
        assertEq(FixVerdict.IMPOSSIBLE_SPEED, stored[500].verdict, "stored verdict")
        assertEq("gps", stored[0].provider, "provider")
        val line = runBlocking { store.simplifiedTrack(id) }
        assertEq(1, line.size, "one segment drawn")
        check(line[0].size in 2..10) { "a straight walk simplifies to a few points: ${line[0].size}" }
        assertEq(listOf(id), runBlocking { store.listPatrols() }.map { it.id }, "list")
    }
}

fun samplingAdviceAndPauseResume() {
    freshStore().use { store ->
        val id = store.startPatrol()
        assertEq(Motion.MOVING, store.samplingAdvice(id).motion, "advice before any fix")
        // 90 s standing with a merchant (jitter of a metre): the core says sample every 15 s.
        val transitions = mutableListOf<Motion>()
        for (i in 0 until 90) {
            val out = store.addFix(id, Fix(lat = 39.904, lon = 116.1935 + (i % 3) * 1e-5, timeMs = T0 + i * 1000L, accuracyM = 5.0))
            if (out.sampling.changed) transitions += out.sampling.motion
        }
        assertEq(listOf(Motion.STATIONARY), transitions, "transitions")
        val advice = store.samplingAdvice(id)
        assertEq(Motion.STATIONARY, advice.motion, "advice after standing")
        assertEq(15u, advice.intervalS, "interval while standing (s)")
        store.pausePatrol(id)
        assertThrows<org.streetpatrol.ffi.PatrolException.InvalidState>("a fix while paused") {
            store.addFix(id, walkFix(100))
        }
        store.resumePatrol(id)
        // A batch after the resume: a new segment, and walking again brings the 1 s interval back.
        val batch = List(30) { walkFix(it, t0 = T0 + 200_000L) }
        val out = store.addFixes(id, batch)
        assertEq(90L, out.firstSeq, "first seq of the batch")
        assertEq(30uL, out.count, "batch count")
        assertEq(Motion.MOVING, out.sampling.motion, "moving again")
        assertEq(1u, out.sampling.intervalS, "interval while moving (s)")
        val stats = store.stopPatrol(id)
        assertEq(2uL, stats.segments, "the resume started a segment")
    }
}

fun exportAndImportRoundTrip() {
    val dir = tempDir()
    freshStore(dir).use { store ->
        val id = store.startPatrol()
        store.addFixes(id, walk(600))
        store.stopPatrol(id)
        val gpx = runBlocking { store.exportTrack(id, TrackExportFormat.GPX, Datum.WGS84, ExportFixes.KEPT) }
        assertEq(600, Regex("<trkpt ").findAll(gpx).count(), "GPX points")
        val geojson = runBlocking { store.exportTrack(id, TrackExportFormat.GEO_JSON, Datum.GCJ02, ExportFixes.ALL) }
        check(geojson.contains("\"FeatureCollection\"") && geojson.contains(id)) { "GeoJSON with the patrol id" }
        check(geojson.contains("\"gcj02\"")) { "GeoJSON says its datum" }
        val file = File(dir, "walk.gpx").apply { writeText(gpx) }
        val report = runBlocking { store.importTrackFile(file.path, ImportSettings(name = "re-imported")) }
        assertEq(600uL, report.stats.fixesRead, "re-imported points")
        assertNear(store.trackStats(id).distanceM, report.stats.distanceM, 0.5, "same distance after the round trip")
        val info = store.patrol(report.patrolId)
        assertEq(PatrolSource.IMPORTED, info.source, "imported source")
        assertEq("re-imported", info.name, "name from the settings")
    }
}
