package org.streetpatrol

import android.content.Context
import android.location.Location
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.os.Build
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.withContext
import org.streetpatrol.ffi.Fix
import org.streetpatrol.ffi.NetworkMonitor
import org.streetpatrol.ffi.NetworkState
import org.streetpatrol.ffi.PatrolStore
import org.streetpatrol.ffi.SecretStore
import org.streetpatrol.ffi.StoreSettings
import org.streetpatrol.ffi.HttpClient
import org.streetpatrol.ffi.WallClock

// Android glue for the StreetPatrol core: where the database lives, locations as fixes, and the
// network state from connectivity callbacks. The Flows over the core are in StreetPatrol.kt;
// everything else is the generated PatrolStore.

/**
 * Opens (creating if needed) the store in the app's database directory
 * (`context.getDatabasePath(fileName)`), so Android's backup rules and "clear storage" treat it
 * like any app database, on [io] (opening may migrate the schema, or encrypt a plain store
 * from an earlier version in place). Its keys and the sync token live in [secrets], Android
 * Keystore unless told otherwise. Pass an
 * [AndroidNetworkMonitor] as [network] (and close it with the store) once the app syncs; sync
 * goes over the platform's [HttpURLConnection][JavaNetHttpClient] unless [http] says otherwise.
 */
suspend fun PatrolStore.Companion.open(
    context: Context,
    fileName: String = "streetpatrol.db",
    settings: StoreSettings = StoreSettings(),
    network: NetworkMonitor? = null,
    clock: WallClock? = null,
    http: HttpClient = JavaNetHttpClient(),
    secrets: SecretStore = KeystoreSecretStore(context),
    io: CoroutineDispatcher = Dispatchers.IO,
): PatrolStore = withContext(io) {
    val file = context.getDatabasePath(fileName)
    file.parentFile?.mkdirs() // SQLite creates the file, not its directory
    open(file.path, secrets, settings, clock, network, http)
}

/**
 * A platform location as a core fix (WGS-84, as Android's location providers deliver it). Pass the
 * locations of a `LocationResult` together: `store.addFixes(id, result.locations.map { it.toFix() })`.
 */
fun Location.toFix(): Fix = Fix(
    lat = latitude,
    lon = longitude,
    timeMs = time,
    accuracyM = if (hasAccuracy()) accuracy.toDouble() else null,
    altitudeM = if (hasAltitude()) altitude else null,
    speedMps = if (hasSpeed()) speed.toDouble() else null,
    bearingDeg = if (hasBearing()) bearing.toDouble() else null,
    provider = provider?.take(32),
    isMock = if (Build.VERSION.SDK_INT >= 31) isMock else @Suppress("DEPRECATION") isFromMockProvider,
    datum = null,
)

/**
 * The device's network as the core needs it, kept current by a default-network callback:
 * [NetworkState.WIFI] for an unmetered network (wifi, ethernet), [NetworkState.CELLULAR] for a
 * metered one, [NetworkState.OFFLINE] without one. [state] lets the UI show it too. Close it with
 * the store (it unregisters the callback).
 */
class AndroidNetworkMonitor(context: Context) : NetworkMonitor, AutoCloseable {
    private val connectivity = requireNotNull(context.getSystemService(ConnectivityManager::class.java)) {
        "this device has no ConnectivityManager"
    }
    private val current = MutableStateFlow(stateOf(connectivity.getNetworkCapabilities(connectivity.activeNetwork)))

    /** The network state, as a flow for the UI. */
    val state: StateFlow<NetworkState> = current.asStateFlow()

    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) {
            current.value = stateOf(capabilities)
        }

        override fun onLost(network: Network) {
            current.value = NetworkState.OFFLINE
        }
    }

    init {
        connectivity.registerDefaultNetworkCallback(callback)
    }

    /** Called by the core (on its own threads) when it decides what to sync. */
    override fun networkState(): NetworkState = current.value

    override fun close() {
        connectivity.unregisterNetworkCallback(callback)
    }

    private companion object {
        fun stateOf(capabilities: NetworkCapabilities?): NetworkState = when {
            capabilities == null ||
                !capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET) -> NetworkState.OFFLINE
            capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_METERED) -> NetworkState.WIFI
            else -> NetworkState.CELLULAR
        }
    }
}
