// The store's keys and the sync token in the iOS Keychain, the secret store `PatrolStore.open`
// passes to the core.

import Foundation
#if canImport(Security)
import Security
#endif

/// Secrets as generic-password items of `service`, one per name, readable after the device's
/// first unlock (background location recording and sync keep working with the screen locked)
/// and on this device only (`ThisDeviceOnly`: never in backups or another device's Keychain). A
/// store restored without them cannot be opened (`PatrolError.KeyUnavailable`), and the device
/// enrols again.
public final class KeychainSecretStore: SecretStore, @unchecked Sendable {
    private let service: String

    public init(service: String = "org.streetpatrol.secrets") {
        self.service = service
    }

    public func get(name: String) throws -> Data? {
        #if canImport(Security)
        var query = base(name)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var found: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &found)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = found as? Data else {
            throw SecretStoreError.Failed(reason: "the Keychain could not read \(name) (status \(status))")
        }
        return data
        #else
        throw SecretStoreError.Failed(reason: "no Keychain on this platform")
        #endif
    }

    public func put(name: String, value: Data) throws {
        #if canImport(Security)
        let update: [String: Any] = [
            kSecValueData as String: value,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(base(name) as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            var add = base(name)
            add.merge(update) { _, new in new }
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else {
            throw SecretStoreError.Failed(reason: "the Keychain could not keep \(name) (status \(status))")
        }
        #else
        throw SecretStoreError.Failed(reason: "no Keychain on this platform")
        #endif
    }

    public func delete(name: String) throws {
        #if canImport(Security)
        let status = SecItemDelete(base(name) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw SecretStoreError.Failed(reason: "the Keychain could not forget \(name) (status \(status))")
        }
        #else
        throw SecretStoreError.Failed(reason: "no Keychain on this platform")
        #endif
    }

    #if canImport(Security)
    private func base(_ name: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: name,
        ]
    }
    #endif
}
