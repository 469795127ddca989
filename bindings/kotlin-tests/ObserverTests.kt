// Observers from Kotlin: a listener (a foreign trait) hears the current state on the core's
// observer thread, then each change, until its TaskHandle is cancelled or closed.
package org.streetpatrol.tests

import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.streetpatrol.ffi.IssueListListener
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.IssueSummary
import org.streetpatrol.ffi.NewIssue
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolState
import org.streetpatrol.ffi.RecordingState
import org.streetpatrol.ffi.RecordingStateListener
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.TaskHandle

/** Queues what an issue observer hears, and the thread it heard it on. */
class QueuedIssues : IssueListListener {
    val lists = LinkedBlockingQueue<List<IssueSummary>>()
    val threads = LinkedBlockingQueue<Long>()
    val errors = LinkedBlockingQueue<PatrolException>()
    override fun onIssues(issues: List<IssueSummary>) {
        threads += Thread.currentThread().id
        lists += issues
    }
    override fun onError(error: PatrolException) {
        errors += error
    }

    /** The next list heard, failing after 10 s. */
    fun next(what: String): List<IssueSummary> =
        lists.poll(10, TimeUnit.SECONDS) ?: throw AssertionFailed("$what: no list within 10 s")

    /** Fails if a list arrives within [ms]. */
    fun nothingWithin(ms: Long, what: String) {
        val got = lists.poll(ms, TimeUnit.MILLISECONDS)
        check(got == null) { "$what: expected no callback, got $got" }
    }
}

class QueuedStates : RecordingStateListener {
    val states = LinkedBlockingQueue<RecordingState>()
    override fun onState(state: RecordingState) {
        states += state
    }
    override fun onError(error: PatrolException) = throw AssertionFailed("recording observer failed: $error")

    fun next(what: String): RecordingState =
        states.poll(10, TimeUnit.SECONDS) ?: throw AssertionFailed("$what: no state within 10 s")
}

fun litterAt(metresNorth: Double) = NewIssue(category = "litter", lat = LAT + metresNorth / M_PER_DEG, lon = LON)

/** Waits up to 10 s for the observation behind [handle] to end. */
fun awaitFinished(handle: TaskHandle, what: String) {
    val until = System.nanoTime() + 10_000_000_000L
    while (!handle.isFinished()) {
        check(System.nanoTime() < until) { "$what: the observer did not end" }
        Thread.sleep(5)
    }
}

fun observersHearTheCurrentStateThenChangesUntilStopped() {
    val dir = tempDir()
    val clock = FakeClock(T0)
    deviceStore(dir, "chief", Role.CHIEF, clock).use { store ->
        // An issue list: the current (empty) list first, on the observer's thread.
        val all = QueuedIssues()
        val allHandle = store.observeIssues(IssueQuery(), all)
        assertEq(emptyList(), all.next("the current list"), "nothing reported yet")
        check(all.threads.take() != Thread.currentThread().id) { "called on the observer's thread, not the caller's" }

        val first = store.reportIssue(litterAt(0.0)).issue.id
        val reported = all.next("after a report")
        assertEq(listOf(first), reported.map { it.id }, "the reported issue arrives")
        clock.nowMs += 60_000 // a minute later: the list shows when the issue was last updated
        store.commentIssue(first, "还在这里")
        val commented = all.next("after a comment")
        assertEq(listOf(first), commented.map { it.id }, "the same issue")
        check(commented != reported) { "delivered because the issue changed: $commented" }

        // A second observer with a filter the next change does not touch hears nothing of it.
        val other = QueuedIssues()
        store.observeIssues(IssueQuery(category = "overflowing_bin"), other).use { otherHandle ->
            assertEq(emptyList(), other.next("the current filtered list"), "no bins")
            clock.nowMs += 60_000
            store.commentIssue(first, "再看一下")
            all.next("the second comment")
            other.nothingWithin(1500, "a change outside the filter")
            otherHandle.cancel()
        }

        // Cancelled: no callback for later changes, and the observer ends.
        allHandle.cancel()
        awaitFinished(allHandle, "the cancelled observer")
        store.reportIssue(litterAt(200.0))
        all.nothingWithin(1500, "after cancel")
        allHandle.close()

        // Closed (what dropping it means in Kotlin): it stops the same way.
        val open = QueuedIssues()
        val openHandle = store.observeIssues(IssueQuery(openOnly = true), open)
        assertEq(2, open.next("the open issues").size, "both reports are open")
        openHandle.close()
        store.reportIssue(litterAt(400.0))
        open.nothingWithin(1500, "after close")
        assertEq(0, all.errors.size + open.errors.size, "no observer failed")

        // The recording state: none, recording, paused, none again.
        val states = QueuedStates()
        store.observeRecording(states).use { handle ->
            assertEq(null, states.next("the current state").patrol, "no patrol open")
            val id = store.startPatrol(listOf("八角西街"))
            val recording = states.next("after start")
            assertEq(id to PatrolState.RECORDING, recording.patrol?.id to recording.patrol?.state, "recording")
            check((recording.intervalS ?: 0u) > 0u) { "a location interval: ${recording.intervalS}" }
            store.pausePatrol(id)
            assertEq(PatrolState.PAUSED, states.next("after pause").patrol?.state, "paused")
            store.stopPatrol(id)
            assertEq(null, states.next("after stop").patrol, "stopped: none open")
            handle.cancel()
        }
    }
}

/** An observer sees what another store object on the same file writes (as a second app process would). */
fun observersSeeWritesFromAnotherConnection() {
    val dir = tempDir()
    val clock = FakeClock(T0)
    deviceStore(dir, "chief", Role.CHIEF, clock).use { store ->
        val heard = QueuedIssues()
        store.observeIssues(IssueQuery(), heard).use { handle ->
            assertEq(emptyList(), heard.next("the current list"), "empty")
            openStore(File(dir, "chief.db").path, clock = clock).use { second ->
                val id = second.reportIssue(litterAt(0.0)).issue.id
                assertEq(listOf(id), heard.next("a write through another connection").map { it.id }, "seen")
            }
            handle.cancel()
        }
    }
}
