// Sync from Kotlin against a real patrol-server that bindings/tests/kotlin.rs starts on loopback:
// a chief's phone and a supervisor's phone enrol with one-time codes, the chief records a patrol
// and reports an issue offline, both sync (the network state comes from a fake NetworkMonitor),
// progress arrives on the listener (which reads the store meanwhile: a sync runs on its own
// connection), and the supervisor's phone then holds the patrol, its fixes and the issue. Refusals arrive as typed exceptions.
package org.streetpatrol.tests

import java.io.File
import kotlinx.coroutines.runBlocking
import org.streetpatrol.JavaNetHttpClient
import org.streetpatrol.ffi.NetworkState
import org.streetpatrol.ffi.NewIssue
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolSource
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.ProgressReport
import org.streetpatrol.ffi.ProgressStage
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.SyncSettings

/** Reads the store from inside the sync's own progress reports. */
class ProbingListener(private val store: PatrolStore) : RecordingListener() {
    @Volatile var patrolsSeenDuringSync: Int? = null

    override fun onProgress(progress: ProgressReport) {
        super.onProgress(progress)
        if (patrolsSeenDuringSync == null) patrolsSeenDuringSync = runBlocking { store.listPatrols() }.size
    }
}

private fun prop(name: String): String = System.getProperty(name) ?: error("-D$name is not set: run this scenario from bindings/tests/kotlin.rs")

fun syncAgainstAPatrolServerStartedByTheTest() {
    val server = prop("patrol.server")
    val chiefCode = prop("patrol.chief_code")
    val supervisorCode = prop("patrol.supervisor_code")
    val dir = tempDir()
    val chiefNet = FakeNetwork(NetworkState.CELLULAR)
    val supNet = FakeNetwork(NetworkState.WIFI)
    // The platform's HTTP stack carries every request (the wrapper's HttpURLConnection client).
    val http = JavaNetHttpClient()
    openStore(File(dir, "chief.db").path, network = chiefNet, http = http).use { chief ->
        openStore(File(dir, "sup.db").path, network = supNet, http = http).use { sup ->
            assertEq(null, chief.syncAccount(), "not enrolled yet")
            val notEnrolled = assertThrows<PatrolException.InvalidState>("sync before enrolment") { runBlocking { chief.sync() } }
            check(notEnrolled.reason.contains("not enrolled")) { notEnrolled.reason }

            val noHttp = assertThrows<PatrolException.InvalidState>("a store opened without an HTTP client cannot enrol") {
                runBlocking { openStore(File(dir, "nohttp.db").path).use { it.enrol(server, chiefCode) } }
            }
            check(noHttp.reason.contains("HTTP client")) { noHttp.reason }
            val me = runBlocking { chief.enrol(server, chiefCode) }
            assertEq(Role.CHIEF, me.role, "the chief's role comes from the server")
            assertEq(me, chief.device(), "the store is now that user's device")
            val used = assertThrows<PatrolException.Server>("a code works once") {
                runBlocking { openStore(File(dir, "other.db").path, http = http).use { it.enrol(server, chiefCode) } }
            }
            check(used.reason.contains("already used")) { used.reason }
            assertEq(401, used.status.toInt(), "the server's status crosses")
            assertEq("unauthorized", used.code, "and its stable code, for the app to branch on")
            assertThrows<PatrolException.InvalidInput>("plain http to another machine") {
                runBlocking { openStore(File(dir, "x.db").path, http = http).use { it.enrol("http://192.0.2.7:8080", "AAAA-BBBB-CCCC") } }
            }
            runBlocking { sup.enrol(server, supervisorCode) }

            // Offline work on the chief's phone: a 600-fix patrol and an issue.
            val patrol = chief.startPatrol(emptyList())
            chief.addFixes(patrol, walk(600))
            chief.stopPatrol(patrol)
            val issue = chief.reportIssue(NewIssue(category = "litter", lat = LAT, lon = LON, description = "路边垃圾")).issue

            // The chief syncs on cellular (what the monitor says), with progress; the listener
            // reads the store while the sync runs (the sync has a connection of its own).
            val listener = ProbingListener(chief)
            val up = runBlocking { chief.sync(progress = listener) }
            assertEq(1, listener.patrolsSeenDuringSync, "the store answers while a sync runs")
            assertEq(NetworkState.CELLULAR, up.network, "the network from the host's monitor")
            assertEq(1uL, up.documentsUp, "the issue went up")
            assertEq(1uL, up.patrolsUp, "the patrol header went up")
            assertEq(600uL, up.fixesUp, "the fixes went up")
            check(up.bytesUp > 0uL && up.requests >= 2uL) { "$up" }
            val stages = listener.reports.map { it.first.stage }.toSet()
            check(ProgressStage.SYNC_DOCUMENTS in stages && ProgressStage.SYNC_FIXES_UP in stages) { "stages: $stages" }

            // The supervisor, on wifi, gets all of it; a second sync moves almost nothing.
            val down = runBlocking { sup.sync() }
            assertEq(1uL, down.documentsDown, "the issue came down")
            assertEq(600uL, down.fixesDown, "the fixes came down (wifi)")
            val there = runBlocking { sup.listPatrols() }.single()
            assertEq(patrol, there.id, "the same patrol")
            assertEq(PatrolSource.SYNCED, there.source, "marked as synced")
            assertEq(600, runBlocking { sup.fixes(patrol) }.size, "every fix")
            assertEq(issue.id, sup.issue(issue.id).id, "the same issue")
            val again = runBlocking { sup.sync() }
            check(again.bytesUp + again.bytesDown < 10_000uL) { "a no-op sync is small: $again" }

            // Offline: nothing is sent, nothing fails.
            supNet.state = NetworkState.OFFLINE
            val off = runBlocking { sup.sync() }
            assertEq(0uL, off.requests, "offline: no requests")
            check(off.deferred.isNotEmpty()) { "offline is reported as deferred work" }
            assertEq(emptyList(), sup.rejectedSyncItems(), "nothing refused")
            check(sup.syncAccount()!!.lastSyncMs != null) { "the account remembers the last sync" }
        }
    }
}
