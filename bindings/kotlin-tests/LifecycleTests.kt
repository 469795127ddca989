// Objects are closed (AutoCloseable, `use`), and no native memory leaks over many calls.
package org.streetpatrol.tests

import java.io.File
import java.nio.ByteBuffer
import java.util.UUID
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.liveStoreHandles

fun closedObjectsRefuseCalls() {
    val dir = tempDir()
    val before = liveStoreHandles()
    val store = freshStore(dir)
    assertEq(before + 1uL, liveStoreHandles(), "one handle while open")
    store.close()
    assertEq(before, liveStoreHandles(), "closing releases the native store at once")
    assertThrows<IllegalStateException>("a call after close") { store.listPatrols() }
    store.close() // closing twice is harmless

    // The same file opens again with everything in it: closing lost nothing.
    PatrolStore.open(File(dir, "patrol.db").path).use { again ->
        assertEq("王芳", again.device()?.name, "the device user survived the close")
    }
    assertEq(before, liveStoreHandles(), "`use` closed it")

    // Handles the app forgot to close are freed when the JVM collects them.
    repeat(50) { PatrolStore.open(File(dir, "patrol.db").path) }
    assertEq(before + 50uL, liveStoreHandles(), "50 unclosed handles")
    val deadline = System.nanoTime() + 20_000_000_000L
    while (liveStoreHandles() > before && System.nanoTime() < deadline) {
        System.gc()
        Thread.sleep(20)
    }
    assertEq(before, liveStoreHandles(), "the cleaner freed the forgotten handles")
}

/**
 * 10,000 calls through the boundary (records in and out, lists, strings, errors, object handles),
 * with the process RSS and the live-handle count read before and after. A leaked RustBuffer of
 * the fix lists alone would add ~80 MB, 1 KB a call 10 MB; the bound is 8 MB. The check first shows that it sees
 * native memory: 48 MB allocated outside the Java heap must show up in the RSS.
 */
fun noNativeLeaksOverTenThousandCalls() {
    val dir = tempDir()
    val path = File(dir, "patrol.db").path
    val handlesBefore = liveStoreHandles()
    val store = freshStore(dir)
    val id = store.startPatrol()
    store.addFixes(id, walk(300))
    val unknown = UUID.randomUUID().toString()

    fun round(i: Int) {
        when (i % 10) {
            0 -> PatrolStore.open(path).use { it.device() }          // object handles
            1 -> check(store.fixes(id).size >= 300) { "fixes" }      // 20-100 KB out
            2 -> store.addFix(id, walkFix(300 + i / 10, t0 = T0))   // records in and out
            3 -> try { store.addFix(unknown, walkFix(0)); error("no error") } catch (e: PatrolException.NotFound) {}
            4 -> store.patrol(id)
            5 -> store.samplingAdvice(id)
            6 -> store.openPatrol()
            7 -> store.addFixes(id, emptyList())
            8 -> try { store.patrol("bad id"); error("no error") } catch (e: PatrolException.InvalidInput) {}
            else -> store.listPatrols()
        }
    }
    // Warm up: JIT, SQLite's page cache, malloc arenas.
    for (i in 0 until 3_000) round(i)
    System.gc()
    val rssBefore = rssBytes()
    for (i in 3_000 until 13_000) round(i)
    System.gc()
    val grown = rssBytes() - rssBefore
    println("      RSS grew by ${grown / 1024} KB over 10,000 calls")
    check(grown < 8L * 1024 * 1024) { "RSS grew by ${grown / 1024} KB over 10,000 calls: a native leak" }
    store.close()
    assertEq(handlesBefore, liveStoreHandles(), "every handle closed")

    // The measurement sees native memory: touch 48 MB outside the Java heap.
    val rss0 = rssBytes()
    val native = ByteBuffer.allocateDirect(48 * 1024 * 1024)
    for (p in 0 until native.capacity() step 4096) native.put(p, 1)
    val seen = rssBytes() - rss0
    check(seen > 40L * 1024 * 1024) { "RSS did not see 48 MB of native memory (${seen / 1024} KB): the leak check is blind" }
}
