// Encryption at rest from Kotlin: the store and its photos are unreadable without the keys the
// host's secret store keeps; a missing key, a wrong one and a failing secret store each arrive
// as their own exception and leave the file as it was.
package org.streetpatrol.tests

import java.io.File
import kotlinx.coroutines.runBlocking
import org.streetpatrol.ffi.PatrolException
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.Role
import org.streetpatrol.ffi.SecretStore
import org.streetpatrol.ffi.SecretStoreException
import org.streetpatrol.ffi.StoreSettings

/** A secret store that is locked: every call fails as Keystore does before the first unlock. */
private class LockedSecretStore : SecretStore {
    override fun get(name: String): ByteArray? = throw SecretStoreException.Failed("the keystore is locked")
    override fun put(name: String, value: ByteArray) = throw SecretStoreException.Failed("the keystore is locked")
    override fun delete(name: String) = throw SecretStoreException.Failed("the keystore is locked")
}

/** A secret store whose implementation throws something it should not. */
private class ThrowingSecretStore : SecretStore {
    override fun get(name: String): ByteArray? = throw IllegalStateException("a bug in the app")
    override fun put(name: String, value: ByteArray) = throw IllegalStateException("a bug in the app")
    override fun delete(name: String) = throw IllegalStateException("a bug in the app")
}

fun theStoreIsEncryptedWithTheHostsKeys() {
    val dir = tempDir()
    val db = File(dir, "chief.db")
    val secrets = FileSecretStore(File(dir, "keys.properties"))
    val original = writeJpeg(File(dir, "street.jpg")).readBytes()
    val sha = PatrolStore.open(db.path, secrets, StoreSettings()).use { store ->
        store.initDevice("王芳", Role.CHIEF)
        runBlocking { store.attachPhoto(File(dir, "street.jpg").path) }.sha256
    }
    val header = db.readBytes().copyOf(16)
    check(!header.contentEquals("SQLite format 3\u0000".toByteArray())) { "the file is not plain SQLite" }
    check(!String(db.readBytes(), Charsets.ISO_8859_1).contains("王芳".toByteArray().toString(Charsets.ISO_8859_1))) {
        "the user's name is not in the file in clear"
    }
    val sealed = File(dir, "chief.db.photos").walk().filter { it.isFile && it.name.startsWith(sha) }.single()
    check(!sealed.readBytes().contentEquals(original)) { "the photo file is sealed" }

    PatrolStore.open(db.path, secrets, StoreSettings()).use { store ->
        check(store.device()?.name == "王芳") { "reopened with its keys" }
        check(runBlocking { store.photoBytes(sha) }.contentEquals(original)) { "the photo reads back whole" }
    }

    val before = db.readBytes()
    val missing = assertThrows<PatrolException.KeyUnavailable>("no key in a fresh secret store") {
        PatrolStore.open(db.path, FileSecretStore(File(dir, "empty.properties")), StoreSettings())
    }
    check(missing.missing) { "missing, not wrong: ${missing.reason}" }
    val wrong = FileSecretStore(File(dir, "wrong.properties"))
    wrong.put("streetpatrol.store-key", ByteArray(32) { 7 })
    val refused = assertThrows<PatrolException.KeyUnavailable>("another key") {
        PatrolStore.open(db.path, wrong, StoreSettings())
    }
    check(!refused.missing) { refused.reason }
    val locked = assertThrows<PatrolException.SecretStore>("a locked keystore") {
        PatrolStore.open(db.path, LockedSecretStore(), StoreSettings())
    }
    check(locked.reason.contains("locked")) { locked.reason }
    assertThrows<PatrolException.SecretStore>("a throwing secret store") {
        PatrolStore.open(db.path, ThrowingSecretStore(), StoreSettings())
    }
    check(db.readBytes().contentEquals(before)) { "every refusal left the file untouched" }
}
