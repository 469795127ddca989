// Platform services come from the host as foreign traits: a clock and the network state.
package org.streetpatrol.tests

import java.io.File
import org.streetpatrol.ffi.WallClock
import org.streetpatrol.ffi.NetworkMonitor
import org.streetpatrol.ffi.NetworkState
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.Role

class FakeClock(@Volatile var nowMs: Long) : WallClock {
    override fun nowMs(): Long = nowMs
}

class FakeNetwork(@Volatile var state: NetworkState) : NetworkMonitor {
    override fun networkState(): NetworkState = state
}

fun hostClockAndNetworkReachTheCore() {
    val dir = tempDir()
    val clock = FakeClock(T0)
    val network = FakeNetwork(NetworkState.CELLULAR)
    openStore(File(dir, "p.db").path, clock = clock, network = network).use { store ->
        store.initDevice("王芳", Role.CHIEF)
        val id = store.startPatrol()
        assertEq(T0, store.patrol(id).startedAtMs, "the patrol started at the host clock's time")
        clock.nowMs = T0 + 3_600_000L
        store.addFix(id, walkFix(0))
        store.stopPatrol(id)
        assertEq(T0 + 3_600_000L, store.patrol(id).stoppedAtMs, "stopped an hour later by the host clock")

        assertEq(NetworkState.CELLULAR, store.networkState(), "network state from the host")
        network.state = NetworkState.WIFI
        assertEq(NetworkState.WIFI, store.networkState(), "follows the host's callbacks")
        network.state = NetworkState.OFFLINE
        assertEq(NetworkState.OFFLINE, store.networkState(), "offline")
    }
    // A clock that throws: the core falls back to the system clock instead of failing.
    val broken = object : WallClock {
        override fun nowMs(): Long = throw IllegalStateException("clock service gone")
    }
    val failingNetwork = object : NetworkMonitor {
        override fun networkState(): NetworkState = throw IllegalStateException("no connectivity service")
    }
    openStore(File(dir, "q.db").path, clock = broken, network = failingNetwork).use { store ->
        store.initDevice("李雷", Role.STEWARD)
        val id = store.startPatrol()
        val started = store.patrol(id).startedAtMs
        check(Math.abs(started - System.currentTimeMillis()) < 60_000) { "system time used: $started" }
        assertEq(null, store.networkState(), "a failing monitor reads as unknown")
    }
    openStore(File(dir, "r.db").path).use { store ->
        assertEq(null, store.networkState(), "no monitor, no state")
    }
}
