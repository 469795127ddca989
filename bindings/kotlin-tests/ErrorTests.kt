// Errors cross the boundary as the generated PatrolException subclasses: the core's message as
// `reason`, and the fields an app branches on (what was not found, the role and action refused).
package org.streetpatrol.tests

import kotlinx.coroutines.runBlocking
import java.io.File
import java.util.UUID
import org.streetpatrol.ffi.FilterProfile
import org.streetpatrol.ffi.MissingKind
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.StoreSettings
import org.streetpatrol.ffi.defaultTrackConfig

fun errorsArriveAsTypedExceptions() {
    val dir = tempDir()
    openStore(File(dir, "p.db").path).use { store ->
        // Before the device is set up.
        val notSetUp = assertThrows<PatrolException.InvalidState>("start before init") { store.startPatrol() }
        check(notSetUp.reason.contains("no device user yet")) { "says what to do: ${notSetUp.reason}" }
        assertThrows<PatrolException.InvalidInput>("an empty name") { store.initDevice("  ", Role.CHIEF) }
        store.initDevice("王芳", Role.CHIEF)
        assertThrows<PatrolException.InvalidState>("init twice") { store.initDevice("李雷", Role.STEWARD) }

        val id = store.startPatrol()
        // Fixes that are not fixes: refused, nothing stored.
        val bad = listOf(
            "NaN latitude" to walkFix(0).copy(lat = Double.NaN),
            "longitude 181" to walkFix(0).copy(lon = 181.0),
            "(0, 0)" to walkFix(0).copy(lat = 0.0, lon = 0.0),
            "negative accuracy" to walkFix(0).copy(accuracyM = -1.0),
            "time before 1970" to walkFix(0).copy(timeMs = -5L),
        )
        for ((what, fix) in bad) {
            val e = assertThrows<PatrolException.InvalidInput>(what) { store.addFix(id, fix) }
            check(e.reason.startsWith("invalid fix")) { "$what: ${e.reason}" }
        }
        val batch = walk(10).toMutableList()
        batch[7] = batch[7].copy(lon = Double.NaN)
        val e = assertThrows<PatrolException.InvalidInput>("a batch with a bad fix") { store.addFixes(id, batch) }
        check(e.reason.contains("fix 7 of the batch")) { "names the bad fix: ${e.reason}" }
        assertEq(0, runBlocking { store.fixes(id) }.size, "nothing stored")

        // Ids: unknown is NotFound, malformed is InvalidInput (refused before the call runs).
        val unknown = UUID.randomUUID().toString()
        val nf = assertThrows<PatrolException.NotFound>("an unknown patrol") { store.addFix(unknown, walkFix(0)) }
        check(nf.reason.contains(unknown)) { "names the id: ${nf.reason}" }
        assertEq(MissingKind.PATROL, nf.kind, "says what is missing")
        assertEq(unknown, nf.id, "and which")
        assertThrows<PatrolException.NotFound>("stats of an unknown patrol") { store.trackStats(unknown) }
        val malformed = assertThrows<PatrolException.InvalidInput>("a malformed id") { store.patrol("patrol-7") }
        check(malformed.reason.contains("patrol-7")) { "names the bad id: ${malformed.reason}" }

        // State: a second open patrol, stopping twice, resuming a recording patrol.
        assertThrows<PatrolException.InvalidState>("a second open patrol") { store.startPatrol() }
        assertThrows<PatrolException.InvalidState>("resume while recording") { store.resumePatrol(id) }
        store.stopPatrol(id)
        assertThrows<PatrolException.InvalidState>("stop twice") { store.stopPatrol(id) }

        // Files: missing is Io, not a track is InvalidInput.
        val missing = File(dir, "nope.gpx").path
        val io = assertThrows<PatrolException.Io>("a missing file") {
            kotlinx.coroutines.runBlocking { store.importTrackFile(missing) }
        }
        check(io.reason.contains("nope.gpx")) { "names the file: ${io.reason}" }
        val notGpx = File(dir, "notes.gpx").apply { writeText("<html><body>not a track</body></html>") }
        assertThrows<PatrolException.InvalidInput>("not a GPX file") {
            kotlinx.coroutines.runBlocking { store.importTrackFile(notGpx.path) }
        }
        assertEq(1, runBlocking { store.listPatrols() }.size, "failed imports stored nothing")
    }
    // Settings out of range are refused when the store opens.
    val broken = defaultTrackConfig(FilterProfile.WALKING).let { it.copy(filter = it.filter.copy(maxSpeedMps = -1.0)) }
    val e = assertThrows<PatrolException.InvalidInput>("a negative speed limit") {
        openStore(File(dir, "q.db").path, StoreSettings(track = broken))
    }
    check(e.reason.contains("max_speed_mps")) { "names the setting: ${e.reason}" }
    // Every kind is a PatrolException, so one catch handles them all.
    check(PatrolException.NotFound(MissingKind.PATROL, "x", "no patrol x") is PatrolException) { "one base class" }
}

fun notADatabaseIsRefusedUntouched() {
    val file = File(tempDir(), "notes.db")
    val junk = "these are my notes, not a database. ".repeat(200).toByteArray()
    file.writeBytes(junk)
    val e = assertThrows<PatrolException.NotADatabase>("opening a text file") { openStore(file.path) }
    check(e.reason.contains("not a StreetPatrol database")) { e.reason }
    check(file.readBytes().contentEquals(junk)) { "the file was left untouched" }
}
