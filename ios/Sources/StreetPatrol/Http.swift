// The platform's HTTP stack for the core's sync (pass it to `PatrolStore.open(http:)`):
// `URLSession`, so requests use the system's TLS, certificate store, proxies and App Transport
// Security. The core calls `send` on its sync worker thread and waits for the answer there.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Carries the core's requests over a `URLSession` (ephemeral: no cookies, no cache).
public final class URLSessionHttpClient: HttpClient, @unchecked Sendable {
    private let session: URLSession

    public init(session: URLSession = URLSession(configuration: .ephemeral)) {
        self.session = session
    }

    /// Sends `request` and blocks this (worker) thread until the answer or the timeout. Every
    /// HTTP status is an answer; only a request that got none throws.
    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw HttpError.Failed(reason: "not a URL: \(request.url)")
        }
        var req = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData,
                             timeoutInterval: TimeInterval(request.timeoutMs) / 1000)
        req.httpMethod = request.methodName
        for header in request.headers {
            req.setValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty {
            req.httpBody = request.body
        }
        let done = DispatchSemaphore(value: 0)
        var outcome: Result<HttpResponse, Error> = .failure(HttpError.Failed(reason: "no answer"))
        let task = session.dataTask(with: req) { data, response, error in
            defer { done.signal() }
            if let error = error {
                outcome = .failure(HttpError.Failed(reason: "\(request.methodName) \(request.url): \(error.localizedDescription)"))
                return
            }
            guard let http = response as? HTTPURLResponse else {
                outcome = .failure(HttpError.Failed(reason: "\(request.url) answered without HTTP"))
                return
            }
            // URLSession undoes gzip itself; header names go to the core in lower case.
            let headers = http.allHeaderFields.compactMap { key, value -> HttpHeader? in
                guard let name = key as? String else { return nil }
                return HttpHeader(name: name.lowercased(), value: "\(value)")
            }
            outcome = .success(HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers, body: data ?? Data()))
        }
        task.resume()
        done.wait()
        return try outcome.get()
    }
}
