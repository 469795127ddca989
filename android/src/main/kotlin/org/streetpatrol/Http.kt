package org.streetpatrol

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.HttpURLConnection
import java.net.URL
import java.util.zip.GZIPInputStream
import org.streetpatrol.ffi.HttpClient
import org.streetpatrol.ffi.HttpException
import org.streetpatrol.ffi.HttpHeader
import org.streetpatrol.ffi.HttpRequest
import org.streetpatrol.ffi.HttpResponse

// The platform's HTTP stack for the core's sync (pass it to PatrolStore.open(http = ...)): the
// system's TLS, certificate store and proxies. No Android API, so the JVM tests run it too.
// Android's HttpURLConnection takes PATCH (photo uploads); a desktop JDK's refuses it.

/** Carries the core's requests over [HttpURLConnection]; called on the sync's worker thread. */
class JavaNetHttpClient(private val connectTimeoutMs: Int = 10_000) : HttpClient {
    override fun send(request: HttpRequest): HttpResponse {
        val conn = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: IOException) {
            throw HttpException.Failed("cannot reach ${request.url}: $e")
        }
        try {
            conn.requestMethod = request.methodName
            conn.connectTimeout = connectTimeoutMs
            conn.readTimeout = request.timeoutMs.coerceAtMost(Int.MAX_VALUE.toULong()).toInt()
            conn.instanceFollowRedirects = false
            conn.useCaches = false
            // Asked for explicitly, so the body is undone here the same way on Android and a JVM.
            conn.setRequestProperty("accept-encoding", "gzip")
            for (h in request.headers) conn.setRequestProperty(h.name, h.value)
            if (request.body.isNotEmpty() || request.methodName in BODY_METHODS) {
                conn.doOutput = true
                // Not streaming mode: a JDK then drops the body of a 401 (it keeps the request to
                // retry with credentials), and bodies here are at most a photo chunk.
                conn.outputStream.use { it.write(request.body) }
            }
            val status = conn.responseCode
            val headers = conn.headerFields.entries
                .filter { it.key != null }
                .flatMap { (name, values) -> values.map { HttpHeader(name.lowercase(), it) } }
            val gzip = conn.contentEncoding.equals("gzip", ignoreCase = true)
            val raw = if (status >= 400) conn.errorStream else conn.inputStream.takeIf { request.methodName != "HEAD" }
            val body = raw?.let { stream -> (if (gzip) GZIPInputStream(stream) else stream).use { it.readAll() } }
            return HttpResponse(status.toUShort(), headers, body ?: ByteArray(0))
        } catch (e: IOException) {
            throw HttpException.Failed("${request.methodName} ${request.url}: $e")
        } finally {
            conn.disconnect()
        }
    }

    private companion object {
        val BODY_METHODS = setOf("POST", "PUT", "PATCH")

        fun InputStream.readAll(): ByteArray {
            val out = ByteArrayOutputStream()
            copyTo(out)
            return out.toByteArray()
        }
    }
}
