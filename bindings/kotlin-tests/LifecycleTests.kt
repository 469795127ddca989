// Objects are closed (AutoCloseable, `use`), and no native memory leaks over many calls.
package org.streetpatrol.tests

import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.ByteBuffer
import java.util.UUID
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.NearPoint
import org.streetpatrol.ffi.NewIssue
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
    assertThrows<IllegalStateException>("a call after close") { runBlocking { store.listPatrols() } }
    store.close() // closing twice is harmless

    // The same file opens again with everything in it: closing lost nothing.
    openStore(File(dir, "patrol.db").path).use { again ->
        assertEq("王芳", again.device()?.name, "the device user survived the close")
    }
    assertEq(before, liveStoreHandles(), "`use` closed it")

    // Handles the app forgot to close are freed when the JVM collects them.
    repeat(50) { openStore(File(dir, "patrol.db").path) }
    assertEq(before + 50uL, liveStoreHandles(), "50 unclosed handles")
    val deadline = System.nanoTime() + 20_000_000_000L
    while (liveStoreHandles() > before && System.nanoTime() < deadline) {
        System.gc()
        Thread.sleep(20)
    }
    assertEq(before, liveStoreHandles(), "the cleaner freed the forgotten handles")
}

/**
 * 10,000 calls through the boundary (records in and out, lists, strings, bytes both ways, errors,
 * object handles, across recording, streets, coverage, issues, photos and points), with the
 * process RSS and the live-handle count read before and after. The bound is 8 MB; each kind of
 * call runs 500 times. A leaked RustBuffer of the fix lists alone would add ~30 MB; of the issue
 * view, the exported document or the document sent in (each carrying a noisy photo's thumbnail,
 * checked to be over 24 KB; 42 KB here), or of the thumbnail bytes, over 12 MB each; 1 KB a
 * call, 10 MB. The check first shows that it sees native memory:
 * 48 MB allocated outside the Java heap must show up in the RSS.
 */
fun noNativeLeaksOverTenThousandCalls() {
    val dir = tempDir()
    val path = File(dir, "patrol.db").path
    val handlesBefore = liveStoreHandles()
    val store = freshStore(dir)
    val id = store.startPatrol()
    store.addFixes(id, walk(300))
    val unknown = UUID.randomUUID().toString()
    kotlinx.coroutines.runBlocking { store.importStreetFile(writeStreets(File(dir, "s.geojson"), PILOT_STREETS).path) }
    val photo = kotlinx.coroutines.runBlocking { store.attachPhoto(writeJpeg(File(dir, "noise.jpg"), noisy = true).path) }
    check(photo.thumbnailBytes > 24_000uL) { "a thumbnail large enough for a leak of it to show: ${photo.thumbnailBytes}" }
    val issue = store.reportIssue(NewIssue(category = "litter", lat = LAT, lon = LON, photos = listOf(photo.sha256))).issue.id
    val document = store.exportIssue(issue)
    check(document.size > 24_000) { "the document carries the thumbnail: ${document.size}" }
    val near = IssueQuery(near = NearPoint(LAT, LON, 100.0))
    println("      thumbnail ${photo.thumbnailBytes / 1024u} KB, issue document ${document.size / 1024} KB")

    fun round(i: Int) {
        when (i % 20) {
            0 -> openStore(path).use { it.device() }          // object handles
            1 -> check(runBlocking { store.fixes(id) }.size >= 300) { "fixes" }      // 20-100 KB out
            2 -> store.addFix(id, walkFix(300 + i / 20, t0 = T0))   // records in and out
            3 -> try { store.addFix(unknown, walkFix(0)); error("no error") } catch (e: PatrolException.NotFound) {}
            4 -> store.patrol(id)
            5 -> store.samplingAdvice(id)
            6 -> store.openPatrol()
            7 -> store.addFixes(id, emptyList())
            8 -> try { store.patrol("bad id"); error("no error") } catch (e: PatrolException.InvalidInput) {}
            9 -> runBlocking { store.listPatrols() }
            10 -> check(store.issue(issue).photos[0].thumbnail.isNotEmpty()) { "issue view" }   // ~20 KB out
            11 -> check(!runBlocking { store.importIssue(document) }.changed) { "unchanged" }                    // ~20 KB in
            12 -> check(store.exportIssue(issue).size == document.size) { "export" }             // ~20 KB out
            13 -> check(store.photoThumbnail(photo.sha256).size.toULong() == photo.thumbnailBytes) { "bytes" }
            14 -> check(runBlocking { store.listIssues(near) }.size == 1) { "issue list" }
            15 -> try { store.verifyIssue(issue); error("no error") } catch (e: PatrolException.NotAllowed) {}
            16 -> check(runBlocking { store.listStreets() }.size == 3) { "streets" }
            17 -> store.matchPoint(LAT, LON, 5.0)
            18 -> store.points()
            else -> runBlocking { store.streetSegments() }
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
