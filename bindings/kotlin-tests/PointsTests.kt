// Litter pickups and the points ledger from Kotlin: pickups credited under the rules, the daily
// cap, hours of patrol, redeeming, and a new version of a rule the next day.
package org.streetpatrol.tests

import java.io.File
import kotlinx.coroutines.runBlocking
import org.streetpatrol.ffi.NewPickup
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PointsKind
import org.streetpatrol.ffi.Role

fun pickupsAndPoints() {
    val dir = tempDir()
    val clock = FakeClock(T0) // 2024-05-01 16:00 in Beijing
    deviceStore(dir, "steward", Role.STEWARD, clock).use { steward ->
        val rules = steward.pointsRules()
        val pickupRule = rules.single { it.kind == PointsKind.PICKUP }
        assertEq(Triple(2L, 1L, 20L), Triple(pickupRule.points, pickupRule.perBag, pickupRule.dailyCap), "2 a pickup, 1 a bag, 20 a day")

        val photo = runBlocking { steward.attachPhoto(writeJpeg(File(dir, "bags.jpg")).path) }
        val first = steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 2u, photoSha256 = photo.sha256, note = "两袋"))
        assertEq(4L, first.points.points, "2 + 2 bags")
        assertEq(PointsKind.PICKUP to first.pickup.id, first.points.kind to first.points.sourceId, "credited for the pickup")
        assertEq("2024-05-01" to 1L, first.points.day to first.points.ruleVersion, "Beijing day and rule version")
        assertEq(photo.sha256, first.pickup.photoSha256, "with its photo")
        assertEq(2L, steward.logPickup(NewPickup(lat = LAT, lon = LON, items = 5u)).points.points, "items only: 2")
        // 4 + 2 + 5 + 5 = 16; the next 5 would pass the cap of 20: it earns 4, then nothing.
        for (expected in listOf(5L, 5L, 4L, 0L)) {
            clock.nowMs += 60_000
            val out = steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 3u))
            assertEq(expected, out.points.points, "points under the daily cap")
            if (expected < 5L) check(out.points.note != null) { "a capped entry says why: ${out.points}" }
        }
        val pickups = steward.pickups()
        assertEq(6, pickups.size, "every pickup is recorded, capped or not")
        assertEq(first.pickup.id, pickups.last().id, "newest first")
        assertEq(2, steward.pickups(2u).size, "a limit")

        // Bad pickups are refused and store nothing.
        assertThrows<PatrolException.InvalidInput>("no count") { steward.logPickup(NewPickup(lat = LAT, lon = LON)) }
        assertThrows<PatrolException.InvalidInput>("a NaN place") { steward.logPickup(NewPickup(lat = Double.NaN, lon = LON, bags = 1u)) }
        assertThrows<PatrolException.InvalidInput>("2,000 bags") { steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 2000u)) }
        assertThrows<PatrolException.NotFound>("a photo not attached") {
            steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 1u, photoSha256 = "cd".repeat(32)))
        }
        assertEq(6, steward.pickups().size, "nothing stored by the refused ones")

        // An hour and ten minutes of patrol earns 4 points (full hours), credited when asked.
        val id = steward.startPatrol()
        steward.addFixes(id, List(421) { walkFix(it * 10, t0 = clock.nowMs) }) // a fix every 10 s for 70 minutes
        steward.stopPatrol(id)
        val summary = steward.points()
        assertEq(24L to 24L, summary.balance to summary.earned, "20 for pickups + 4 for the hour")
        assertEq(0L, summary.redeemed, "nothing redeemed")
        assertEq(PointsKind.PATROL_HOUR, summary.entries.first { it.sourceId == id }.kind, "the patrol's entry")
        assertEq(summary.balance, summary.entries.sumOf { it.points }, "the balance is the sum of the ledger")

        val spent = steward.redeemPoints(15, "保温杯")
        assertEq(PointsKind.REDEMPTION to -15L, spent.kind to spent.points, "a redemption is negative")
        assertEq("保温杯", spent.note, "what it was for")
        val short = assertThrows<PatrolException.InvalidInput>("more than the balance") { steward.redeemPoints(10, "雨伞") }
        check(short.reason.contains("balance is 9")) { short.reason }
        assertThrows<PatrolException.InvalidInput>("zero points") { steward.redeemPoints(0, "nothing") }
        assertEq(Triple(9L, 24L, 15L), steward.points().let { Triple(it.balance, it.earned, it.redeemed) }, "after redeeming")

        // A new version of the pickup rule from tomorrow: tomorrow's pickups earn under it, and
        // the cap starts again on a new Beijing day.
        val tomorrow = T0 + 24 * 3_600_000L
        val v2 = steward.addPointsRule(PointsKind.PICKUP, 3, 2, tomorrow, "3 points and 2 per bag", 30)
        assertEq(2L, v2.version, "version 2")
        assertEq(0L, steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 1u)).points.points, "today: still capped under version 1")
        clock.nowMs = tomorrow + 60_000
        val next = steward.logPickup(NewPickup(lat = LAT, lon = LON, bags = 1u))
        assertEq(Triple(5L, 2L, "2024-05-02"), Triple(next.points.points, next.points.ruleVersion, next.points.day), "tomorrow under version 2")
        assertEq(2, steward.pointsRules().count { it.kind == PointsKind.PICKUP }, "both versions listed")
        assertThrows<PatrolException.InvalidInput>("a negative rule") { steward.addPointsRule(PointsKind.PICKUP, -1, 0, tomorrow, "x") }
    }
}
