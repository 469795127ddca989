// Streets, coverage and signboards from Kotlin: a street file imported off the caller's thread, a
// chief's 1 Hz patrol along an assigned street, the coverage read back, signboards and check-ins.
package org.streetpatrol.tests

import java.io.File
import kotlinx.coroutines.runBlocking
import org.streetpatrol.ffi.LatLon
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.ProgressStage
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.ScanPosition
import org.streetpatrol.ffi.StreetImportSettings

fun streetsImportPatrolAndCoverage() {
    val dir = tempDir()
    val file = writeStreets(File(dir, "bajiao.geojson"), PILOT_STREETS)
    val clock = FakeClock(T0)
    openStore(File(dir, "chief.db").path, clock = clock).use { chief ->
        val me = chief.initDevice("王芳", Role.CHIEF)
        assertThrows<PatrolException.InvalidState>("coverage before any street network") { chief.matchPoint(LAT, LON) }

        // Import: off the caller's thread, progress in bytes and then streets.
        val listener = RecordingListener()
        val report = runBlocking { chief.importStreetFile(file.path, StreetImportSettings(subdistrict = "八角"), listener) }
        assertEq(3uL, report.streets, "streets imported")
        assertEq(3uL, report.namedStreets, "named streets")
        // 600 m and 600 m lines in three segments of at most 200 m, 300 m in two.
        assertEq(8uL, report.segments, "segments")
        assertNear(PILOT_STREETS.sumOf { lengthM(it) }, report.totalLengthM, 0.5, "total length (m)")
        val stages = listener.reports.map { it.first }
        assertEq(ProgressReport(ProgressStage.READING_FILE, 0uL, file.length().toULong()), stages.first(), "first report: reading, in bytes")
        assertEq(ProgressReport(ProgressStage.STORING_STREETS, 3uL, 3uL), stages.last(), "last report")

        // Listing, resolving, assigning.
        val streets = runBlocking { chief.listStreets() }
        assertEq(listOf("八角北路", "八角西街", "杨庄东街"), streets.map { it.street.name }, "listed by name")
        check(streets.all { it.street.subdistrict == "八角" }) { "the subdistrict from the settings" }
        val west = chief.resolveStreet("八角西街")
        val north = chief.resolveStreet("八角北路")
        val east = chief.resolveStreet(" 杨庄东街 ")
        assertEq(west, chief.resolveStreet(west), "an id resolves to itself")
        assertNear(600.0, chief.street(west).lengthM, 0.5, "西街 length (m)")
        val nf = assertThrows<PatrolException.NotFound>("an unknown street") { chief.resolveStreet("长安街") }
        check(nf.reason.contains("长安街")) { nf.reason }
        assertEq(3, runBlocking { chief.streetSegments() }.count { it.streetId == west }, "西街 segments to draw")
        check(runBlocking { chief.exportStreetsGeojson() }.contains("\"FeatureCollection\"")) { "GeoJSON for map SDKs" }

        assertEq(null, chief.assignStreet(west, me.userId, Role.CHIEF), "no chief before")
        chief.assignStreet(east, me.userId, Role.CHIEF)
        chief.assignStreet(west, "李雷", Role.STEWARD)
        assertEq(me.userId, runBlocking { chief.listStreets() }.first { it.street.id == west }.chief, "the chief of 西街")
        assertEq(listOf("李雷"), runBlocking { chief.listStreets() }.first { it.street.id == west }.stewards, "stewards of 西街")
        assertEq(setOf(west, east), chief.assignmentsOf(me.userId).map { it.streetId }.toSet(), "my streets")
        assertEq(true, chief.unassignStreet(west, "李雷", Role.STEWARD), "unassigned")
        assertEq(false, chief.unassignStreet(west, "李雷", Role.STEWARD), "nothing left to unassign")
        assertThrows<PatrolException.InvalidInput>("a crew member cannot be given a street") {
            chief.assignStreet(west, me.userId, Role.CREW)
        }

        // A point matches its street.
        val (lat5, lon5) = offset(5.0, 300.0)
        val m = chief.matchPoint(lat5, lon5, 5.0) ?: error("a point 5 m off 西街 matches it")
        assertEq(west, m.streetId, "matched street")
        assertNear(5.0, m.distanceM, 0.5, "distance to the street (m)")
        val (latFar, lonFar) = offset(150.0, 150.0)
        assertEq(null, chief.matchPoint(latFar, lonFar), "150 m from every street")
        assertThrows<PatrolException.InvalidInput>("NaN is not a point") { chief.matchPoint(Double.NaN, LON) }

        // A signboard half way up 西街; this store makes the district key and so is the issuer.
        val (boardLat, boardLon) = offset(0.0, 300.0)
        val board = chief.issueSignboard(west, LatLon(boardLat, boardLon))
        check(board.payload.startsWith("SP1.") && board.link.endsWith(board.payload)) { "a signed code in a link: $board" }
        assertEq(listOf(board.id), chief.signboardsOf(west).map { it.id }, "the street's signboards")

        // The patrol: up 西街 at 1.3 m/s, one fix a second, then 150 m along 八角北路.
        val path = listOf(0.0 to 0.0, 0.0 to 600.0, 150.0 to 600.0)
        val fixes = walkAlong(path, T0 + 60_000)
        val id = chief.startPatrol()
        val atBoard = (300.0 / 1.3).toInt() + 1 // the fixes up to the signboard, 300 m up the street
        for (batch in fixes.subList(0, atBoard).chunked(30)) chief.addFixes(id, batch)
        // Passing the signboard: scanning it checks in at the latest fix.
        val scan = chief.scanSignboard(board.link)
        val checkIn = scan.checkIn ?: error("a chief scanning during a patrol checks in: ${scan.note}")
        assertEq(west, scan.streetId, "the signboard's street")
        check(checkIn.fixSeq == atBoard - 1L && checkIn.distanceToSignboardM!! < 10.0) { "checked in at the latest fix: $checkIn" }
        val withPosition = chief.scanSignboard(board.payload, ScanPosition(boardLat, boardLon, 4.0))
        assertNear(0.0, withPosition.checkIn!!.distanceToSignboardM!!, 0.01, "at the position given")
        for (batch in fixes.subList(atBoard, fixes.size).chunked(30)) chief.addFixes(id, batch)
        chief.stopPatrol(id)
        assertEq(2, chief.checkIns(id).size, "check-ins of the patrol")

        val c = runBlocking { chief.patrolCoverage(id) }
        assertEq(setOf(west, east), c.streets.map { it.streetId }.toSet(), "the assigned streets are reported")
        val w = c.streets.first { it.streetId == west }
        check(w.assigned && w.coveredRatio > 0.9) { "西街 walked end to end: ${w.coveredRatio}" }
        assertNear(w.lengthM * w.coveredRatio, w.coveredM, 1e-6, "ratio = covered / length")
        check(w.timeS in 400.0..520.0) { "about 460 s on 西街: ${w.timeS}" }
        check(w.segments.all { it.intervals.isNotEmpty() }) { "every segment of 西街 has a covered stretch" }
        check(c.streets.first { it.streetId == east }.coveredM < 1.0) { "杨庄东街 was not walked" }
        val visited = c.visitedUnassigned.singleOrNull() ?: error("八角北路 was visited: ${c.visitedUnassigned}")
        assertEq(north, visited.streetId, "visited, not assigned")
        check(visited.coveredM in 100.0..200.0 && !visited.assigned) { "about 150 m of 八角北路: ${visited.coveredM}" }
        assertEq(2uL, c.totals.streets, "totals over the assigned streets")
        assertNear(900.0, c.totals.lengthM, 1.0, "assigned length (m)")
        assertNear(c.totals.coveredM / c.totals.lengthM, c.totals.coveredRatio, 1e-9, "totals ratio")
        assertEq(fixes.size.toULong(), c.matching.fixesKept, "every fix kept")
        check(c.matching.fixesMatched >= c.matching.fixesKept - 5uL) { "matched: ${c.matching}" }

        // The period around it: the same patrol, the same figures.
        val p = runBlocking { chief.periodCoverage(T0, T0 + 3_600_000, me.userId) }
        assertEq(listOf(id), p.patrols, "patrols of the period")
        assertNear(c.totals.coveredM, p.totals.coveredM, 1e-6, "period covered (m)")
        assertThrows<PatrolException.InvalidInput>("a period ending before it starts") { runBlocking { chief.periodCoverage(T0, T0 - 1) } }

        // Scanning with no open patrol: verified, no check-in, a note saying why.
        val idle = chief.scanSignboard(board.link)
        check(idle.checkIn == null && idle.note!!.contains("no patrol")) { "$idle" }
        // A forged or damaged code records nothing.
        val forged = board.payload.substring(0, 20) + (if (board.payload[20] == 'A') 'B' else 'A') + board.payload.substring(21)
        assertThrows<PatrolException.InvalidInput>("a damaged code") { chief.scanSignboard(forged) }

        // Another phone: verifies with the public key only, and cannot issue.
        val key = chief.districtPublicKey()
        openStore(File(dir, "steward.db").path).use { steward ->
            steward.initDevice("李雷", Role.STEWARD)
            assertThrows<PatrolException.InvalidState>("no key to check against") { steward.scanSignboard(board.link) }
            assertThrows<PatrolException.InvalidInput>("not a key") { steward.trustDistrictKey("hello") }
            steward.trustDistrictKey(key)
            // Its own import of the same file made its own street ids: the code names a street it lacks.
            runBlocking { steward.importStreetFile(file.path) }
            assertThrows<PatrolException.NotFound>("a genuine code for a street not synced yet") { steward.scanSignboard(board.link) }
            assertThrows<PatrolException.InvalidState>("a verifying phone cannot issue") {
                steward.issueSignboard(steward.resolveStreet("八角西街"))
            }
        }
    }
}

fun cancellingAStreetImportStoresNothing() {
    val dir = tempDir()
    // 1,000 streets side by side: progress comes every 256 streets.
    val many = List(1000) { i -> StreetLine("街 $i", i * 20.0 to 0.0, i * 20.0 to 100.0) }
    val file = writeStreets(File(dir, "many.geojson"), many)
    freshStore(dir).use { store ->
        val listener = cancelWhileStoring { store.importStreetFile(file.path, StreetImportSettings(), it) }
        // The next call waits for the worker to roll back.
        assertEq(0, runBlocking { store.listStreets() }.size, "the cancelled import left no street")
        val storing = listener.reports.map { it.first }.filter { it.stage == ProgressStage.STORING_STREETS }
        check(storing.isNotEmpty() && storing.none { it.done == it.total }) { "stopped before the end: $storing" }
        // The store is fine afterwards: the same file imports whole.
        val report = runBlocking { store.importStreetFile(file.path) }
        assertEq(1000uL, report.streets, "imported after the cancel")
        assertEq(1000, runBlocking { store.listStreets() }.size, "listed")
        // Not a street file: InvalidInput, nothing stored; a missing file: Io.
        val notStreets = File(dir, "points.geojson").apply {
            writeText("""{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.2,39.9]}}]}""")
        }
        val e = assertThrows<PatrolException.InvalidInput>("points are not streets") {
            runBlocking { store.importStreetFile(notStreets.path) }
        }
        check(e.reason.contains("Point")) { e.reason }
        assertThrows<PatrolException.Io>("a missing file") { runBlocking { store.importStreetFile(File(dir, "nope.osm").path) } }
        assertThrows<PatrolException.InvalidInput>("a segment length under 10 m") {
            runBlocking { store.importStreetFile(file.path, StreetImportSettings(maxSegmentM = 1.0)) }
        }
        assertEq(1000, runBlocking { store.listStreets() }.size, "failed imports changed nothing")
    }
}
