// Test data made here: walks along a meridian, GPX files, temporary stores.
package org.streetpatrol.tests

import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.util.Base64
import java.util.Properties
import java.time.Instant
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.HttpClient
import org.streetpatrol.ffi.NetworkMonitor
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.SecretStore
import org.streetpatrol.ffi.StoreSettings
import org.streetpatrol.ffi.WallClock
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

/**
 * FOR TESTS ONLY: secrets in a plain properties file (base64 values), so a JVM test can open a
 * store again after closing it. It protects nothing: an app passes `KeystoreSecretStore` (Android)
 * or `KeychainSecretStore` (iOS).
 */
class FileSecretStore(private val file: File) : SecretStore {
    @Synchronized
    override fun get(name: String): ByteArray? = load().getProperty(name)?.let { Base64.getDecoder().decode(it) }

    @Synchronized
    override fun put(name: String, value: ByteArray) {
        val all = load()
        all.setProperty(name, Base64.getEncoder().encodeToString(value))
        save(all)
    }

    @Synchronized
    override fun delete(name: String) {
        val all = load()
        if (all.remove(name) != null) save(all)
    }

    private fun load(): Properties = Properties().apply { if (file.exists()) file.inputStream().use { load(it) } }

    private fun save(all: Properties) {
        val tmp = File(file.parentFile, ".${file.name}.tmp")
        tmp.outputStream().use { out -> all.store(out, "test secrets"); out.fd.sync() }
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
    }
}

/** The test secrets of the store at [path]: `<path>.secrets` beside it. */
fun secretsFor(path: String): SecretStore = FileSecretStore(File("$path.secrets"))

/** Opens the store at [path] as an app does, with its test secrets. */
fun openStore(
    path: String,
    settings: StoreSettings = StoreSettings(),
    clock: WallClock? = null,
    network: NetworkMonitor? = null,
    http: HttpClient? = null,
): PatrolStore = PatrolStore.open(path, secretsFor(path), settings, clock, network, http)

fun tempDir(): File = Files.createTempDirectory("streetpatrol-kt").toFile().apply { deleteOnExit() }

/** A fresh store file in a temporary directory, set up for a chief. */
fun freshStore(dir: File = tempDir(), name: String = "王芳"): PatrolStore {
    val store = openStore(File(dir, "patrol.db").path)
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

// ---- Streets, photos: places near the 八角 pilot streets, measured in metres east and north.

/** The issue location of the scenarios: on 八角西街. */
const val LAT = 39.9075
const val LON = 116.1936

/** The WGS-84 point [eastM] east and [northM] north of (LAT, LON) on the sphere geo uses. */
fun offset(eastM: Double, northM: Double): Pair<Double, Double> =
    (LAT + northM / M_PER_DEG) to (LON + eastM / (M_PER_DEG * Math.cos(Math.toRadians(LAT))))

/** A street for [writeStreets]: a name and a polyline in metres (east, north) from (LAT, LON). */
class StreetLine(val name: String, vararg val pointsM: Pair<Double, Double>)

/**
 * Three streets around the origin: 八角西街 600 m due north from it, 八角北路 600 m east-west
 * across its north end (sharing that point exactly, so they meet), and 杨庄东街 300 m north
 * from a point 300 m east.
 */
val PILOT_STREETS = listOf(
    StreetLine("八角西街", 0.0 to 0.0, 0.0 to 600.0),
    StreetLine("八角北路", -200.0 to 600.0, 0.0 to 600.0, 400.0 to 600.0),
    StreetLine("杨庄东街", 300.0 to 0.0, 300.0 to 300.0),
)

/** Writes [streets] as a GeoJSON FeatureCollection of LineStrings. */
fun writeStreets(file: File, streets: List<StreetLine>): File {
    val features = streets.joinToString(",") { s ->
        val coords = s.pointsM.joinToString(",") { (e, n) -> offset(e, n).let { (lat, lon) -> "[$lon,$lat]" } }
        """{"type":"Feature","properties":{"name":"${s.name}","highway":"residential"},"geometry":{"type":"LineString","coordinates":[$coords]}}"""
    }
    file.writeText("""{"type":"FeatureCollection","features":[$features]}""")
    return file
}

/** Length of a street line, Haversine, computed here independently of the core. */
fun lengthM(s: StreetLine): Double =
    s.pointsM.map { (e, n) -> offset(e, n) }.zipWithNext { a, b -> haversineM(a.first, a.second, b.first, b.second) }.sum()

/**
 * A JPEG made here with javax.imageio: [width] x [height] pixels, smooth shading from [shade], or
 * random noise when [noisy] (noise compresses badly, so its thumbnail is large).
 */
fun writeJpeg(file: File, width: Int = 640, height: Int = 480, shade: Int = 90, noisy: Boolean = false): File {
    val img = java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB)
    val rnd = java.util.Random(shade.toLong())
    for (y in 0 until height) for (x in 0 until width) {
        val rgb = if (noisy) rnd.nextInt(0x1000000) else ((shade and 0xff) shl 16) or (((x * 255) / width) shl 8) or ((y * 255) / height)
        img.setRGB(x, y, rgb)
    }
    check(javax.imageio.ImageIO.write(img, "jpg", file)) { "no JPEG writer in this JVM" }
    return file
}

/** SHA-256 of [bytes] in lowercase hex, computed here (the photo store names photos by it). */
fun sha256Hex(bytes: ByteArray): String =
    java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

/**
 * A walk at [speedMps] along [pathM] (metres east, north from (LAT, LON)), one fix a second from
 * [t0], with a deterministic error of up to [noiseM] metres in each direction.
 */
fun walkAlong(pathM: List<Pair<Double, Double>>, t0: Long, speedMps: Double = 1.3, noiseM: Double = 3.0, seed: Long = 7): List<Fix> {
    val rnd = java.util.Random(seed)
    val legs = pathM.zipWithNext()
    val total = legs.sumOf { (a, b) -> Math.hypot(b.first - a.first, b.second - a.second) }
    val n = (total / speedMps).toInt()
    return List(n + 1) { i ->
        var d = minOf(i * speedMps, total)
        var at = pathM.last()
        for ((a, b) in legs) {
            val len = Math.hypot(b.first - a.first, b.second - a.second)
            if (d <= len) {
                at = (a.first + (b.first - a.first) * d / len) to (a.second + (b.second - a.second) * d / len)
                break
            }
            d -= len
        }
        val (lat, lon) = offset(at.first + (rnd.nextDouble() * 2 - 1) * noiseM, at.second + (rnd.nextDouble() * 2 - 1) * noiseM)
        Fix(lat = lat, lon = lon, timeMs = t0 + i * 1000L, accuracyM = 5.0, speedMps = speedMps, provider = "gps")
    }
}
