import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Times the dashboard's pages and API calls against a running server (`autoresearch serve --bench`): each
/// request `repeats` times one after another, the median and the range, beside the 200 ms target, and for each page
/// the sum of the medians of everything its first load fetches.
public enum DashboardBenchmark {
    public static let target = 0.200

    /// - Parameters:
    ///   - url: the dashboard's address, ending in "/".
    ///   - experiment: an experiment number to open.
    public static func run(url: String, experiment: Int, repeats: Int = 20) async throws -> String {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let requests: [(String, String)] = [
            ("page /", "/"), ("page /experiments", "/experiments"), ("page /experiments/N", "/experiments/\(experiment)"),
            ("page /swarm", "/swarm"), ("/assets/app.js", "/assets/app.js"), ("/assets/app.css", "/assets/app.css"),
            ("/api/status", "/api/status"), ("/api/chart", "/api/chart"), ("/api/running", "/api/running"),
            ("/api/experiments (first 100)", "/api/experiments?limit=100"),
            ("/api/experiments (latest 10)", "/api/experiments?sort=number&desc=1&limit=10"),
            ("/api/experiments (sorted by metric)", "/api/experiments?sort=metric&limit=100"),
            ("/api/experiments (search)", "/api/experiments?q=warmup&limit=100"),
            ("/api/experiments (keeps)", "/api/experiments?status=keep&limit=100"),
            ("/api/experiments/N", "/api/experiments/\(experiment)"), ("/api/swarm", "/api/swarm"),
        ]
        let session = URLSession(configuration: .ephemeral)
        var medians: [String: Double] = [:]
        var lines = ["request                                  median     min      max   bytes   (target \(Int(target * 1000)) ms)"]
        for (name, path) in requests {
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                let (data, response) = try await session.data(from: URL(string: base + path)!)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw DashboardError.badRequest("\(path) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
                bytes = data.count
            }
            times.sort()
            let median = times[times.count / 2]
            medians[path] = median
            lines.append(name.padding(toLength: 38, withPad: " ", startingAt: 0)
                         + String(format: " %7.1f  %7.1f  %7.1f  %7d  %@", median * 1000, times.first! * 1000, times.last! * 1000, bytes,
                                  median < target ? "ok" : "SLOW"))
        }
        let assets = ["/assets/app.js", "/assets/app.css"]
        let pages: [(String, [String])] = [
            ("overview", ["/", "/api/status", "/api/chart", "/api/running", "/api/experiments?sort=number&desc=1&limit=10"] + assets),
            ("experiments", ["/experiments", "/api/experiments?limit=100"] + assets),
            ("experiment", ["/experiments/\(experiment)", "/api/experiments/\(experiment)"] + assets),
            ("swarm", ["/swarm", "/api/swarm"] + assets),
        ]
        lines.append("")
        lines.append("page (every request of its first load, one after another)   total ms")
        for (name, paths) in pages {
            let total = paths.compactMap { medians[$0] }.reduce(0, +)
            lines.append(name.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: " %7.1f  %@", total * 1000, total < target ? "ok" : "SLOW"))
        }
        return lines.joined(separator: "\n")
    }
}
