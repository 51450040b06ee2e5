import Foundation
import Harness
import Hummingbird

/// The dashboard's routes: HTML pages (shells the script fills), assets, the read-only JSON API, the event
/// stream, and the controls (POST, token required).
///
/// | route | answer |
/// |---|---|
/// | `GET /`, `/experiments`, `/experiments/N`, `/swarm` | pages |
/// | `GET /assets/app.js`, `/assets/app.css` | assets compiled into the binary |
/// | `GET /api/status` | `DashboardModels.Status` |
/// | `GET /api/experiments?status=&q=&sort=&desc=&offset=&limit=` | `DashboardModels.Page` |
/// | `GET /api/experiments/N` | `DashboardModels.Detail` |
/// | `GET /api/chart`, `/api/running`, `/api/swarm` | `Chart`, `[Running]`, `Swarm` |
/// | `GET /api/events` | Server-Sent Events (`hello`, `update`) |
/// | `POST /api/control/{stop,pause,resume}` | `ControlAnswer`; 401 without a token, 403 with a wrong one |
///
/// Every API call takes `?tag=` (default: the tag `serve` was started with). Reads without the token
/// (`Authorization: Bearer TOKEN`) are answered without the hidden test split's scores; a request whose `Host` is not
/// this server's is refused with 421 (DNS rebinding: a page of another site must not read the ledger).
struct DashboardRoutes: Sendable {
    let data: DashboardData
    let token: ControlToken
    let events: EventStream
    /// The `Host` values this server answers (its own names and port); empty: any (bound to every interface).
    var hosts: Set<String> = []

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }()

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: HostCheck(routes: self))
        router.get("/") { _, _ in page(DashboardPages.overview(data)) }
        router.get("/experiments") { _, _ in page(DashboardPages.experiments(data)) }
        router.get("/experiments/:number") { _, context in
            guard let n = context.parameters.get("number", as: Int.self) else { return page(DashboardPages.notFound(data), status: .notFound) }
            return page(DashboardPages.experiment(data, number: n))
        }
        router.get("/swarm") { _, _ in page(DashboardPages.swarm(data)) }
        router.get("/assets/app.js") { _, _ in asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/assets/app.css") { _, _ in asset(DashboardAssets.style, type: "text/css; charset=utf-8") }

        router.get("/api/status") { request, _ in json(request) { try view(request).status(tag: $0) } }
        router.get("/api/chart") { request, _ in json(request) { tag in RawJSON(data: try view(request).chartJSON(tag: tag, encoder: Self.encoder)) } }
        router.get("/api/running") { request, _ in json(request) { try data.running(tag: $0) } }
        router.get("/api/swarm") { request, _ in json(request) { try data.swarm(tag: $0) } }
        router.get("/api/experiments") { request, _ in
            json(request) { tag in
                let q = request.uri.queryParameters
                var query = DashboardData.TableQuery()
                query.status = q["status"].map(String.init)
                query.search = q["q"].map(String.init)
                query.sort = q["sort"].map(String.init) ?? "number"
                query.descending = q["desc"].map { $0 == "1" || $0 == "true" } ?? false
                query.offset = q["offset"].flatMap { Int($0) } ?? 0
                query.limit = q["limit"].flatMap { Int($0) } ?? 100
                return try view(request).page(tag: tag, query: query)
            }
        }
        router.get("/api/experiments/:number") { request, context in
            json(request) { tag in
                guard let n = context.parameters.get("number", as: Int.self) else { throw DashboardError.badRequest("an experiment number is an integer") }
                return try view(request).detail(tag: tag, number: n)
            }
        }
        router.get("/api/events") { request, _ in
            guard let tag = try? data.tag(request.uri.queryParameters["tag"].map(String.init)) else {
                return response(.notFound, type: "application/json; charset=utf-8", bytes: Data("{\"error\":\"no such tag in this ledger\"}".utf8))
            }
            let stream = await events.subscribe(tag: tag)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for await message in stream {
                    try await writer.write(ByteBuffer(string: message))
                }
                try await writer.finish(nil)
            })
        }
        router.post("/api/control/:command") { request, context in control(request, command: context.parameters.get("command") ?? "") }
        return router
    }

    /// The data a request may see: with test_bpb only when it carries the token.
    func view(_ request: Request) -> DashboardData {
        token.accepts(authorization: request.headers[.authorization]) ? data : data.withoutTest
    }

    /// Whether the request's `Host` names this server, whatever the port (no `Host` at all passes: not a browser).
    func hostAllowed(_ request: Request) -> Bool {
        guard !hosts.isEmpty, let authority = request.head.authority else { return true }
        return hosts.contains(Self.hostName(authority))
    }

    /// The name part of a `Host` value, lowercased: "LocalHost:8080" → "localhost", "[::1]:80" → "[::1]".
    static func hostName(_ authority: String) -> String {
        let value = authority.lowercased()
        if value.hasPrefix("["), let end = value.firstIndex(of: "]") { return String(value[...end]) }
        return String(value.prefix { $0 != ":" })
    }

    /// The `Host` names a server bound to `host` answers: for a loopback address its loopback names, for another
    /// address that address; bound to every interface (0.0.0.0, ::), any (DNS rebinding is then the user's choice).
    static func hosts(boundTo host: String) -> Set<String> {
        let bound = host.lowercased()
        if ["0.0.0.0", "::", "[::]", ""].contains(bound) { return [] }
        if ["127.0.0.1", "localhost", "::1", "[::1]"].contains(bound) || bound.hasPrefix("127.") { return ["127.0.0.1", "localhost", "[::1]", bound] }
        return [bound.contains(":") && !bound.hasPrefix("[") ? "[\(bound)]" : bound]
    }

    /// Refuses a request for another host with 421 before any route runs.
    struct HostCheck: RouterMiddleware {
        typealias Context = BasicRequestContext
        let routes: DashboardRoutes
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            guard routes.hostAllowed(request) else {
                return routes.response(.misdirectedRequest, type: "application/json; charset=utf-8",
                                       bytes: Data("{\"error\":\"this dashboard answers only requests for \(routes.hosts.sorted().joined(separator: ", ")); open it by one of those names\"}".utf8))
            }
            return try await next(request, context)
        }
    }

    /// POST /api/control/COMMAND: files the request for the running loop, if the token is right.
    func control(_ request: Request, command: String) -> Response {
        let header = request.headers[.authorization]
        guard let header, !header.isEmpty else {
            return answer(.unauthorized, .init(ok: false, state: nil, error: "this control needs the token `autoresearch serve` printed: send it as 'Authorization: Bearer TOKEN'"))
        }
        guard token.accepts(authorization: header) else {
            return answer(.forbidden, .init(ok: false, state: nil, error: "wrong token: use the one `autoresearch serve` printed when it started"))
        }
        guard let command = LoopControl.Command(rawValue: command) else {
            return answer(.notFound, .init(ok: false, state: nil, error: "no control '\(command)': use stop, pause or resume"))
        }
        do {
            let written = try LoopControl(workspace: data.workspace).send(command, by: "dashboard")
            return answer(.ok, .init(ok: true, state: written.state.rawValue, error: nil))
        } catch {
            return answer(.internalServerError, .init(ok: false, state: nil, error: "could not write the control file: \(error)"))
        }
    }

    func answer(_ status: HTTPResponse.Status, _ body: DashboardModels.ControlAnswer) -> Response {
        response(status, type: "application/json; charset=utf-8", bytes: (try? Self.encoder.encode(body)) ?? Data())
    }

    /// Encodes what `body` returns for the request's tag; a `DashboardError` becomes 404 or 400 with `{"error": …}`.
    func json<T: Encodable>(_ request: Request, _ body: (String) throws -> T) -> Response {
        do {
            let tag = try data.tag(request.uri.queryParameters["tag"].map(String.init))
            let value = try body(tag)
            let bytes = try (value as? RawJSON)?.data ?? Self.encoder.encode(value)
            return response(.ok, type: "application/json; charset=utf-8", bytes: bytes)
        } catch let error as DashboardError {
            let status: HTTPResponse.Status = if case .notFound = error { .notFound } else { .badRequest }
            return response(status, type: "application/json; charset=utf-8", bytes: Data("{\"error\":\(EventStream.quote(error.description))}".utf8))
        } catch {
            return response(.internalServerError, type: "application/json; charset=utf-8",
                            bytes: Data("{\"error\":\(EventStream.quote("\(error)"))}".utf8))
        }
    }

    /// A body already encoded.
    struct RawJSON: Encodable {
        let data: Data
        func encode(to encoder: Encoder) throws {}
    }

    func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        response(status, type: "text/html; charset=utf-8", bytes: Data(html.utf8))
    }

    func asset(_ text: String, type: String) -> Response {
        var r = response(.ok, type: type, bytes: Data(text.utf8))
        r.headers[.cacheControl] = "no-cache"
        return r
    }

    /// A response with the headers every answer carries: no inline script may run (Content-Security-Policy), no
    /// sniffing (the pages also send no referrer, so a `?token=` in the address stays on the page).
    func response(_ status: HTTPResponse.Status, type: String, bytes: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
