import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How failed requests are retried: exponential back-off with jitter, honouring the server's `retry-after`.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int = 5
    /// The wait before the second attempt; it doubles each time (with ±50 % jitter), up to `maxDelay`.
    public var baseDelay: Double = 2
    public var maxDelay: Double = 60
    /// The longest `retry-after` honoured; a longer one is cut to this.
    public var maxRetryAfter: Double = 600

    public init(maxAttempts: Int = 5, baseDelay: Double = 2, maxDelay: Double = 60, maxRetryAfter: Double = 600) {
        self.maxAttempts = maxAttempts; self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1); `retryAfter` wins when the server sent one.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, jitter: Double) -> Double {
        if let retryAfter { return min(max(0, retryAfter), maxRetryAfter) }
        let exponential = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return exponential * (0.5 + jitter)  // jitter in [0, 1): 50–150 % of the exponential step
    }

    /// Whether an HTTP status is worth retrying: 408, 409, 429 and every 5xx (Anthropic's 529 "overloaded" included).
    public static func isRetryable(status: Int) -> Bool { status == 408 || status == 409 || status == 429 || status >= 500 }

    /// Parses `retry-after` (seconds, or an HTTP date) and `retry-after-ms`.
    public static func retryAfter(headers: [String: String], now: Date = Date()) -> Double? {
        let lower = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        if let ms = lower["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) { return ms / 1000 }
        guard let value = lower["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { $0.timeIntervalSince(now) }
    }
}

/// POSTs JSON over HTTP(S) with retries (URLSession; FoundationNetworking on Linux).
/// Retries 408/409/429/5xx, timeouts and dropped connections; every retry is noted in the transcript
/// (never the headers, which carry the key).
public struct HTTPTransport: Sendable {
    public var retry: RetryPolicy
    /// Sleeps between attempts; replaced in tests to record the waits.
    public var sleep: @Sendable (Double) async throws -> Void
    /// Jitter source in [0, 1).
    public var jitter: @Sendable () -> Double

    public init(retry: RetryPolicy = RetryPolicy(),
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64(max(0, $0) * 1e9)) },
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.retry = retry; self.sleep = sleep; self.jitter = jitter
    }

    /// A response: status, headers (names as sent), body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
    }

    /// POSTs a JSON body and returns the JSON answer of a 2xx response. Both providers report errors as
    /// `{"error": {"message": …}}`, which becomes `ProviderError.rejected` with that message.
    /// - Throws: `ProviderError.rejected` (4xx and the like), `.malformedResponse` (not JSON), `.unavailable` and
    ///   `.outOfTime` (see `post`).
    public func postJSON(_ url: URL, headers: [String: String], body: JSONValue, deadline: Date,
                         log: TranscriptLog) async throws -> JSONValue {
        let response = try await post(url, headers: headers, body: Data(body.text.utf8), deadline: deadline, log: log)
        let text = String(decoding: response.body, as: UTF8.self)
        let json = JSONValue.parse(text)
        guard (200..<300).contains(response.status) else {
            throw ProviderError.rejected(status: response.status, message: json?["error"]?["message"]?.string ?? String(text.prefix(300)))
        }
        guard let json else { throw ProviderError.malformedResponse("the body is not JSON: \(text.prefix(200))") }
        return json
    }

    /// POSTs `body` to `url` and returns the first response that is not retryable (2xx or a 4xx like 400/401).
    ///
    /// Each attempt may take only the time left before `deadline`, and a wait before the next attempt (back-off or
    /// the server's `retry-after`) that would pass the deadline ends the call at once.
    /// - Throws: `ProviderError.unavailable` when every attempt failed, `.outOfTime` when the deadline came first,
    ///   `CancellationError` when cancelled.
    public func post(_ url: URL, headers: [String: String], body: Data, deadline: Date,
                     log: TranscriptLog) async throws -> Response {
        var lastError = ""
        let attempts = max(1, retry.maxAttempts)
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let timeout = deadline.timeIntervalSinceNow
            guard timeout > 0 else {
                throw outOfTime(log, "the researcher's time limit ran out before attempt \(attempt) of the request" + (lastError.isEmpty ? "" : " (last error: \(lastError))"))
            }
            var request = URLRequest(url: url, timeoutInterval: timeout + 5)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "content-type")
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            var retryAfter: Double?
            do {
                let (data, http) = try await Self.send(request, within: timeout)
                var responseHeaders: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    if let k = key as? String, let v = value as? String { responseHeaders[k] = v }
                }
                if !RetryPolicy.isRetryable(status: http.statusCode) {
                    return Response(status: http.statusCode, headers: responseHeaders, body: data)
                }
                retryAfter = RetryPolicy.retryAfter(headers: responseHeaders)
                lastError = "HTTP \(http.statusCode): " + String(decoding: data.prefix(300), as: UTF8.self)
            } catch let error as URLError where error.code == .cancelled {
                throw CancellationError()
            } catch let error as URLError where [.badURL, .unsupportedURL].contains(error.code) {
                throw ProviderError.rejected(status: 0, message: "bad URL \(url.absoluteString): \(error.localizedDescription)")
            } catch let error as URLError {
                if error.code == .timedOut, deadline.timeIntervalSinceNow <= 0.5 {
                    throw outOfTime(log, "the request was still unanswered when the researcher's time limit ran out (\(Int(timeout.rounded())) s left when it was sent)")
                }
                lastError = error.code == .timedOut ? "timed out after \(Int(timeout.rounded())) s" : "connection failed (\(error.localizedDescription))"
            }
            if Task.isCancelled { throw CancellationError() }
            guard attempt < attempts else { break }
            let wait = retry.delay(afterAttempt: attempt, retryAfter: retryAfter, jitter: jitter())
            let left = deadline.timeIntervalSinceNow
            if wait >= left {
                let asked = retryAfter.map { String(format: "the server asked to retry after %.0f s", $0) }
                    ?? String(format: "the next retry would wait %.1f s", wait)
                throw outOfTime(log, "attempt \(attempt)/\(attempts) failed (\(lastError)) and \(asked), but only \(String(format: "%.0f", max(0, left))) s of the researcher's time limit are left")
            }
            log.append("http", "attempt \(attempt)/\(attempts) failed: \(lastError); retrying in \(String(format: "%.1f", wait)) s"
                       + (retryAfter != nil ? " (the server's retry-after)" : ""))
            try await sleep(wait)
        }
        log.append("http", "giving up after \(attempts) attempts: \(lastError)")
        throw ProviderError.unavailable(attempts: attempts, lastError: lastError)
    }

    private func outOfTime(_ log: TranscriptLog, _ why: String) -> ProviderError {
        log.append("http", why)
        return .outOfTime(why)
    }

    /// One HTTP exchange that returns by `seconds` whatever the server does: a server that accepts the
    /// connection and then never answers (or trickles bytes, which resets URLSession's idle timer) gets
    /// `URLError(.timedOut)` when the time is up, and its session is cancelled.
    static func send(_ request: URLRequest, within seconds: TimeInterval) async throws -> (Data, HTTPURLResponse) {
        // URLSession's own timeouts are idle timers (and fire early on Linux): the timer below is the limit.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = seconds + 5
        configuration.timeoutIntervalForResource = seconds + 5
        let session = URLSession(configuration: configuration)
        let once = Mutex(false)
        return try await withTaskCancellationHandler { try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>) in
            @Sendable func finish(_ result: Result<(Data, HTTPURLResponse), Error>) {
                guard once.withLock({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(with: result)
            }
            let task = session.dataTask(with: request) { data, response, error in
                if let error { finish(.failure(error)) }
                else if let http = response as? HTTPURLResponse { finish(.success((data ?? Data(), http))) }
                else { finish(.failure(URLError(.badServerResponse))) }
                session.finishTasksAndInvalidate()
            }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds + 0.25) {
                finish(.failure(URLError(.timedOut)))
                session.invalidateAndCancel()
            }
        } } onCancel: {
            session.invalidateAndCancel()
        }
    }
}
