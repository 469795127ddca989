// The Kotlin half of bindings/benches/kotlin_jna.rs: add_fix per call and add_fixes per fix through
// the generated bindings and JNA, on a durable store file, after a JIT warm-up. Prints one RESULT
// line for the Rust side to read. Fixes are the ones Fixtures.walkFix makes, as on the Rust side.
package org.streetpatrol.tests

import java.io.File
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.liveStoreHandles

private fun medianOf(v: List<Double>): Double = v.sorted()[v.size / 2]
private fun percentile(sorted: List<Double>, p: Double): Double = sorted[((sorted.size - 1) * p).toInt()]

fun main(args: Array<String>) {
    val single = args.getOrNull(0)?.toInt() ?: 2_000
    val rounds = args.getOrNull(1)?.toInt() ?: 5
    val replayFixes = args.getOrNull(2)?.toInt() ?: 28_800
    val dir = tempDir()

    // An empty call: what crossing the boundary itself costs.
    repeat(200_000) { liveStoreHandles() }
    val emptyNs = List(rounds) {
        val t = System.nanoTime()
        repeat(100_000) { liveStoreHandles() }
        (System.nanoTime() - t) / 100_000.0
    }

    // add_fix, one durable commit per call.
    val perCallUs = mutableListOf<Double>()
    for (r in 0 until rounds + 1) {
        freshStore(File(dir, "single-$r").apply { mkdirs() }).use { store ->
            val id = store.startPatrol()
            val fixes = walk(single)
            for (f in fixes) {
                val t = System.nanoTime()
                store.addFix(id, f)
                val us = (System.nanoTime() - t) / 1000.0
                if (r > 0) perCallUs += us // round 0 warms the JIT up
            }
        }
    }
    val sortedCalls = perCallUs.sorted()

    // add_fixes: an 8-hour 1 Hz patrol replayed in one call, and in 60-fix batches (a minute of
    // fixes, as a batched location request delivers them).
    val fixes = walk(replayFixes)
    val oneCallMs = mutableListOf<Double>()
    val batchesMs = mutableListOf<Double>()
    for (r in 0 until rounds + 1) {
        freshStore(File(dir, "batch-$r").apply { mkdirs() }).use { store ->
            val id = store.startPatrol()
            val t = System.nanoTime()
            store.addFixes(id, fixes)
            if (r > 0) oneCallMs += (System.nanoTime() - t) / 1e6
        }
        freshStore(File(dir, "batches-$r").apply { mkdirs() }).use { store ->
            val id = store.startPatrol()
            val t = System.nanoTime()
            for (chunk in fixes.chunked(60)) store.addFixes(id, chunk)
            if (r > 0) batchesMs += (System.nanoTime() - t) / 1e6
        }
    }
    val oneCall = medianOf(oneCallMs)
    println(
        "RESULT empty_call_ns=%.1f single_median_us=%.2f single_p99_us=%.2f replay_one_call_ms=%.1f replay_batches_of_60_ms=%.1f batch_ns_per_fix=%.1f"
            .format(medianOf(emptyNs), percentile(sortedCalls, 0.5), percentile(sortedCalls, 0.99), oneCall, medianOf(batchesMs), oneCall * 1e6 / replayFixes)
    )
}
