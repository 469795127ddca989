package org.streetpatrol

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.streetpatrol.ffi.SecretStore
import org.streetpatrol.ffi.SecretStoreException

private const val NAME = "org.streetpatrol.secrets"

/**
 * The store's keys and the sync token in Android Keystore, the secret store
 * [PatrolStore.open][org.streetpatrol.open] passes to the core. Each secret is encrypted with
 * an AES-256-GCM key that never leaves the Keystore (in secure hardware where the device has
 * it), bound to the secret's name; the ciphertext sits in this app's private preferences file
 * [prefsName]. Exclude that file from backups (the app's `dataExtractionRules` /
 * `fullBackupContent`) as the store is: a store restored without the Keystore key that sealed
 * its keys cannot be opened (`PatrolException.KeyUnavailable`), and the device enrols again.
 * [alias] names the Keystore key and [prefsName] the file (`org.streetpatrol.secrets` both).
 * Calls take turns: two threads making the Keystore key at once would each make one.
 */
class KeystoreSecretStore(context: Context, alias: String = NAME, prefsName: String = NAME) : SecretStore {
    private val keyAlias = alias
    private val prefs = context.getSharedPreferences(prefsName, Context.MODE_PRIVATE)

    @Synchronized
    override fun get(name: String): ByteArray? = guard("read $name") {
        val stored = prefs.getString(name, null) ?: return@guard null
        val bytes = Base64.decode(stored, Base64.NO_WRAP)
        if (bytes.size <= IV_BYTES) throw GeneralSecurityException("$name is too short")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, keystoreKey(), GCMParameterSpec(TAG_BITS, bytes, 0, IV_BYTES))
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES)
    }

    @Synchronized
    override fun put(name: String, value: ByteArray) = guard("keep $name") {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, keystoreKey())
        cipher.updateAAD(name.toByteArray(Charsets.UTF_8))
        val sealed = cipher.iv + cipher.doFinal(value)
        // commit(), not apply(): the core relies on a key being kept before it writes data it opens.
        if (!prefs.edit().putString(name, Base64.encodeToString(sealed, Base64.NO_WRAP)).commit()) {
            throw GeneralSecurityException("the preferences file was not written")
        }
    }

    @Synchronized
    override fun delete(name: String) = guard("forget $name") {
        if (!prefs.edit().remove(name).commit()) {
            throw GeneralSecurityException("the preferences file was not written")
        }
    }

    /** The Keystore's AES key for this store's secrets, made on first use. */
    @Synchronized
    private fun keystoreKey(): SecretKey {
        val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        (keyStore.getKey(keyAlias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build()
        )
        return generator.generateKey()
    }

    private inline fun <T> guard(what: String, call: () -> T): T = try {
        call()
    } catch (e: GeneralSecurityException) {
        throw SecretStoreException.Failed("Android Keystore could not $what: ${e.message}")
    } catch (e: IllegalArgumentException) {
        throw SecretStoreException.Failed("Android Keystore could not $what: ${e.message}")
    }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
