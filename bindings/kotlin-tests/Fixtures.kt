// Test data made here: walks along a meridian, GPX files, temporary stores.
package org.streetpatrol.tests

import java.io.File
import java.nio.file.Files
import java.time.Instant
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.Role

/** 2024-05-01T08:00:00Z, a morning patrol. */
const val T0: Long = 1_714_550_400_000L
/** Metres per degree of latitude on the sphere geo's Haversine uses (R = 6,371,008.8 m). */
const val M_PER_DEG = 111_195.08

/** Fix [i] of a walk due north from 八角 at 1.4 m/s, one fix a second, 5 m accuracy. */
fun walkFix(i: Int, startLat: Double = 39.904, t0: Long = T0): Fix =
    Fix(lat = startLat + i * 1.4 / M_PER_DEG, lon = 116.1935, timeMs = t0 + i * 1000L, accuracyM = 5.0, provider = "gps")

fun walk(n: Int, t0: Long = T0): List<Fix> = List(n) { walkFix(it, t0 = t0) }

/** Haversine distance written out here, independent of the core. */
fun haversineM(lat1: Double, lon1: Double, lat2: Double, lon2: Double): Double {
    val r = 6_371_008.8
    val p1 = Math.toRadians(lat1)
    val p2 = Math.toRadians(lat2)
    val dp = p2 - p1
    val dl = Math.toRadians(lon2 - lon1)
    val a = Math.sin(dp / 2).let { it * it } + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2).let { it * it }
    return 2 * r * Math.asin(Math.sqrt(a))
}

fun tempDir(): File = Files.createTempDirectory("streetpatrol-kt").toFile().apply { deleteOnExit() }

/** A fresh store file in a temporary directory, set up for a chief. */
fun freshStore(dir: File = tempDir(), name: String = "王芳"): PatrolStore {
    val store = PatrolStore.open(File(dir, "patrol.db").path)
    store.initDevice(name, Role.CHIEF)
    return store
}

/** A GPX 1.1 file of [points] points walking north, one a second. */
fun writeGpx(file: File, points: Int): File {
    file.bufferedWriter().use { w ->
        w.write("""<?xml version="1.0" encoding="UTF-8"?>""")
        w.write("""<gpx version="1.1" creator="kotlin-tests" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>long walk</name><trkseg>""")
        for (i in 0 until points) {
            val f = walkFix(i)
            w.write("""<trkpt lat="${"%.7f".format(f.lat)}" lon="${"%.7f".format(f.lon)}"><time>${Instant.ofEpochMilli(f.timeMs)}</time></trkpt>""")
            w.write("\n")
        }
        w.write("</trkseg></trk></gpx>\n")
    }
    return file
}

/** Resident set size of this process in bytes (Linux), from /proc/self/status. */
fun rssBytes(): Long {
    val line = File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
    return line.removePrefix("VmRSS:").trim().removeSuffix("kB").trim().toLong() * 1024
}
