// Issues from Kotlin: a steward reports litter with a photo made here, and the issue goes round
// the closed loop across three stores (a steward's, a chief's, a crew member's phone), handed over
// as exported documents, bytes and files, with refused actions arriving as NotAllowed.
package org.streetpatrol.tests

import java.io.File
import javax.imageio.ImageIO
import kotlinx.coroutines.runBlocking
import org.streetpatrol.ffi.Assignee
import org.streetpatrol.ffi.IssueEventKind
import org.streetpatrol.ffi.IssueQuery
import org.streetpatrol.ffi.IssueStatus
import org.streetpatrol.ffi.LatLon
import org.streetpatrol.ffi.NearPoint
import org.streetpatrol.ffi.NewIssue
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.PhotoStage
import org.streetpatrol.ffi.Role

/** A store of its own for one device and role, on the shared clock. */
fun deviceStore(dir: File, name: String, role: Role, clock: FakeClock): PatrolStore =
    openStore(File(dir, "$name.db").path, clock = clock).apply { initDevice(name, role) }

fun reportAnIssueWithAPhotoThroughTheWorkflow() {
    val dir = tempDir()
    val clock = FakeClock(T0)
    val steward = deviceStore(dir, "steward", Role.STEWARD, clock)
    val chief = deviceStore(dir, "chief", Role.CHIEF, clock)
    val crew = deviceStore(dir, "crew", Role.CREW, clock)
    try {
        // The steward photographs the litter; the photo store names it by its SHA-256.
        val jpeg = writeJpeg(File(dir, "before.jpg"))
        val before = runBlocking { steward.attachPhoto(jpeg.path) }
        assertEq(sha256Hex(jpeg.readBytes()), before.sha256, "named by the SHA-256 of its bytes")
        assertEq("image/jpeg", before.mime, "mime by content")
        assertEq(640u to 480u, before.width to before.height, "size")
        check(runBlocking { steward.photoBytes(before.sha256) }.contentEquals(jpeg.readBytes())) { "the original is kept byte for byte" }
        assertEq(null, before.takenAtMs, "no EXIF in a javax.imageio JPEG")
        val thumb = ImageIO.read(steward.photoThumbnail(before.sha256).inputStream())
        check(maxOf(thumb.width, thumb.height) <= 320) { "a thumbnail: ${thumb.width} x ${thumb.height}" }
        check(runBlocking { steward.attachPhoto(jpeg.path) }.alreadyStored) { "the same photo is stored once" }
        val notPhoto = File(dir, "notes.jpg").apply { writeText("not a photo at all") }
        assertThrows<PatrolException.InvalidInput>("a text file named .jpg") { runBlocking { steward.attachPhoto(notPhoto.path) } }

        val reported = steward.reportIssue(NewIssue(category = "litter", lat = LAT, lon = LON, description = "路边一堆垃圾", photos = listOf(before.sha256)))
        val id = reported.issue.id
        assertEq(IssueStatus.REPORTED, reported.issue.status, "reported")
        assertEq(Role.STEWARD, reported.issue.reporter.role, "reporter role")
        assertEq(emptyList(), reported.possibleDuplicates, "nothing nearby yet")
        val photo = reported.issue.photos.single()
        assertEq(PhotoStage.BEFORE to before.sha256, photo.stage to photo.sha256, "the before-photo")
        check(photo.thumbnail.isNotEmpty()) { "the thumbnail travels in the document" }
        assertEq(LAT, photo.lat, "a photo without GPS is placed at the issue")
        // A second report of the same litter 20 m away: offered as a possible duplicate.
        val (lat20, lon20) = offset(0.0, 20.0)
        val second = steward.reportIssue(NewIssue(category = "litter", lat = lat20, lon = lon20))
        assertEq(listOf(id), second.possibleDuplicates.map { it.id }, "the first report is offered")
        assertNear(20.0, second.possibleDuplicates[0].distanceM!!, 0.5, "20 m away")
        // Stewards do not dispatch.
        val e = assertThrows<PatrolException.NotAllowed>("a steward assigning") { steward.assignIssue(id, Assignee.CityProperty) }
        check(e.reason.contains("steward")) { e.reason }

        // To the chief as bytes: dispatch to the city-property crews, the second one a duplicate.
        clock.nowMs += 600_000
        val merged = runBlocking { chief.importIssue(steward.exportIssue(id)) }
        check(merged.new && merged.changed && merged.status == IssueStatus.REPORTED) { "$merged" }
        runBlocking { chief.importIssue(steward.exportIssue(second.issue.id)) }
        assertEq(listOf(id), runBlocking { chief.possibleDuplicates(second.issue.id) }.map { it.id }, "possible duplicates")
        assertEq(IssueStatus.DUPLICATE, chief.markDuplicate(second.issue.id, id).status, "marked a duplicate")
        val assigned = chief.assignIssue(id, Assignee.CityProperty, "请尽快清理")
        assertEq(IssueStatus.ASSIGNED, assigned.status, "assigned")
        assertEq(Assignee.CityProperty, assigned.assignee, "to the city-property crews")
        assertThrows<PatrolException.NotAllowed>("the chief is not the assignee") { chief.acceptIssue(id) }

        // To the crew as a file: accept, then resolve with an after-photo taken near the issue.
        clock.nowMs += 600_000
        val handover = File(dir, "handover/issue.automerge")
        val written = runBlocking { chief.exportIssueFile(id, handover.path) }
        assertEq(handover.length().toULong(), written, "bytes written")
        assertEq(true, runBlocking { crew.importIssueFile(handover.path) }.new, "new on the crew's phone")
        assertEq(listOf(id), runBlocking { crew.listIssues(IssueQuery(assignee = Assignee.CityProperty, openOnly = true)) }.map { it.id }, "in the crew's queue")
        assertThrows<PatrolException.NotFound>("the original photo stays on the steward's phone") { crew.photo(before.sha256) }
        check(crew.issue(id).photos.single().thumbnail.isNotEmpty()) { "but every phone has the thumbnail" }
        assertEq(IssueStatus.IN_PROGRESS, crew.acceptIssue(id).status, "accepted")
        val after = runBlocking { crew.attachPhoto(writeJpeg(File(dir, "after.jpg"), shade = 200).path) }
        val (farLat, farLon) = offset(0.0, 1000.0)
        val far = assertThrows<PatrolException.NotAllowed>("an after-photo 1 km away") {
            crew.resolveIssue(id, after.sha256, LatLon(farLat, farLon))
        }
        check(far.reason.contains("m from the issue")) { far.reason }
        assertEq(IssueStatus.IN_PROGRESS, crew.issue(id).status, "the refused resolve wrote nothing")
        val (nearLat, nearLon) = offset(0.0, 15.0)
        val resolved = crew.resolveIssue(id, after.sha256, LatLon(nearLat, nearLon), "已清理")
        assertEq(IssueStatus.RESOLVED, resolved.status, "resolved")
        assertThrows<PatrolException.NotAllowed>("whoever fixed it does not verify") { crew.verifyIssue(id) }
        assertThrows<PatrolException.NotAllowed>("the crew did not report it, so cannot cancel it") { crew.cancelIssue(id, "done") }

        // Back to the steward, who may not verify: refused, nothing written.
        clock.nowMs += 600_000
        runBlocking { steward.importIssue(crew.exportIssue(id)) }
        val heads = steward.issue(id).heads
        val refused = assertThrows<PatrolException.NotAllowed>("a steward verifying") { steward.verifyIssue(id) }
        check(refused.reason.contains("steward may not verify")) { refused.reason }
        assertEq(Role.STEWARD, refused.role, "the role refused crosses")
        assertEq("verify", refused.action, "and the action")
        assertEq(heads, steward.issue(id).heads, "the refusal wrote nothing")
        steward.commentIssue(id, "看到已经清理了")

        // The chief verifies: the loop is closed.
        runBlocking { chief.importIssue(crew.exportIssue(id)) }
        runBlocking { chief.importIssue(steward.exportIssue(id)) }
        val verified = chief.verifyIssue(id)
        assertEq(IssueStatus.VERIFIED, verified.status, "verified")
        assertEq(
            listOf(IssueEventKind.REPORT, IssueEventKind.ASSIGN, IssueEventKind.ACCEPT, IssueEventKind.RESOLVE, IssueEventKind.VERIFY),
            verified.events.map { it.kind },
            "events in order",
        )
        check(verified.events.all { it.applied && it.refused == null }) { "every event applied" }
        assertEq(Assignee.CityProperty, verified.events[1].to, "the assign event names the crews")
        assertEq("请尽快清理", verified.events[1].note, "with the chief's note")
        assertEq(after.sha256, verified.events[3].photo, "the resolve carries the after-photo")
        assertEq(crew.device()!!.userId, verified.resolvedBy, "resolved by the crew member")
        assertEq(chief.device()!!.userId, verified.verifiedBy, "verified by the chief")
        assertEq(listOf(PhotoStage.BEFORE, PhotoStage.AFTER), verified.photos.map { it.stage }.sorted(), "before and after")
        assertEq(listOf("看到已经清理了"), verified.comments.map { it.text }, "the steward's comment")
        check(verified.events.zipWithNext().all { (a, b) -> a.at.wallMs <= b.at.wallMs }) { "HLC order" }

        // The steward sees the closed loop, with the same history, and earns the points.
        val back = runBlocking { steward.importIssue(chief.exportIssue(id)) }
        assertEq(IssueStatus.VERIFIED, back.status, "verified on the steward's phone")
        assertEq(chief.issue(id).heads, steward.issue(id).heads, "the same history on both phones")
        assertEq(5L, steward.points().balance, "5 points for a reported issue that ends verified")
        assertEq(false, runBlocking { steward.importIssue(chief.exportIssue(id)) }.changed, "importing again changes nothing")

        // Reopened: round 2, due again; a day later it is overdue.
        val reopened = chief.reopenIssue(id, "垃圾又出现了")
        assertEq(IssueStatus.REOPENED to 2u, reopened.status to reopened.round, "a new round")
        assertEq(emptyList(), reopened.assignees, "nobody holds it in the new round")
        val cat = chief.issueCategories().first { it.code == "litter" }
        assertEq(24u, cat.dueHours, "litter is due in 24 hours")
        assertEq(reopened.events.last().at.wallMs + 24 * 3_600_000L, reopened.dueAtMs, "due from the reopen")
        assertEq(0, runBlocking { chief.listIssues(IssueQuery(overdue = true)) }.size, "not overdue yet")
        clock.nowMs += 25 * 3_600_000L
        assertEq(listOf(id), runBlocking { chief.listIssues(IssueQuery(overdue = true)) }.map { it.id }, "overdue a day later")
        check(chief.issue(id).overdue) { "the view says overdue too" }

        // Queries on the chief's phone.
        assertEq(2, runBlocking { chief.listIssues(IssueQuery(near = NearPoint(LAT, LON, 100.0))) }.size, "both reports within 100 m")
        assertEq(listOf(second.issue.id), runBlocking { chief.listIssues(IssueQuery(status = IssueStatus.DUPLICATE)) }.map { it.id }, "the duplicate")
        assertEq(1uL, runBlocking { chief.countIssues(IssueQuery(openOnly = true)) }, "one open issue")
        assertEq(2uL, runBlocking { chief.countIssues(IssueQuery()) }, "two issues")
        assertEq(listOf(id), runBlocking { chief.listIssues(IssueQuery(near = NearPoint(LAT, LON, 5.0), category = "litter")) }.map { it.id }, "at the spot")

        // A reporter withdraws their own report; a custom category.
        val third = steward.reportIssue(NewIssue(category = "other", lat = LAT, lon = LON, description = "井盖松动"))
        assertEq(IssueStatus.CANCELLED, steward.cancelIssue(third.issue.id, "报错了").status, "withdrawn")
        steward.addIssueCategory("shared_bikes", "共享单车乱停", "shared bikes", 2u)
        val bikes = steward.reportIssue(NewIssue(category = "shared-bikes", lat = LAT, lon = LON)).issue
        assertEq("shared_bikes" to 2 * 3_600_000L, bikes.category to bikes.dueAtMs - bikes.reportedAtMs, "a custom category")
        assertThrows<PatrolException.InvalidInput>("an unknown category") { steward.reportIssue(NewIssue(category = "graffiti", lat = LAT, lon = LON)) }

        // What is not an issue document, id or place is refused with the right kind.
        assertThrows<PatrolException.InvalidInput>("bytes that are not a document") { runBlocking { chief.importIssue("hello".toByteArray()) } }
        assertThrows<PatrolException.Io>("a missing document file") { runBlocking { chief.importIssueFile(File(dir, "nope.automerge").path) } }
        assertThrows<PatrolException.NotFound>("an unknown issue") { chief.issue(java.util.UUID.randomUUID().toString()) }
        assertThrows<PatrolException.InvalidInput>("a malformed issue id") { chief.issue("issue-7") }
        assertThrows<PatrolException.InvalidInput>("a place that is not on Earth") {
            chief.reportIssue(NewIssue(category = "litter", lat = 0.0, lon = 0.0))
        }
        assertThrows<PatrolException.NotFound>("a photo this store does not have") {
            chief.reportIssue(NewIssue(category = "litter", lat = LAT, lon = LON, photos = listOf("ab".repeat(32))))
        }
        assertEq(2uL, runBlocking { chief.countIssues(IssueQuery()) }, "the refused calls stored nothing")
    } finally {
        steward.close()
        chief.close()
        crew.close()
    }
}
