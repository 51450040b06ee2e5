/// What the binary serves under `/assets/`: one script and one stylesheet, compiled in (no CDN, no network).
///
/// Their sources are ordinary files in `Sources/Dashboard/Assets/`, embedded by SwiftPM (`.embedInCode` in
/// Package.swift), so editors, linters and `node --check` read them (`DashboardAssetsTests` parses each script):
/// - `core.js`: helpers, the event stream, the controls, the overview and the table;
/// - `charts.js`: the progress and curve charts, as SVG built in the browser;
/// - `pages.js`: the experiment page and the swarm / meta-loop page, then the start;
/// - `app.css`: the stylesheet.
public enum DashboardAssets {
    /// The script files in the order `/assets/app.js` joins them (each defines on the `AR` object the last ones use).
    static let scripts: [(name: String, bytes: [UInt8])] = [("core.js", PackageResources.core_js),
                                                            ("charts.js", PackageResources.charts_js),
                                                            ("pages.js", PackageResources.pages_js)]

    /// `/assets/app.js`: helpers, live updates and controls, the charts, then each page's code.
    public static let script = scripts.map { String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: "\n")

    /// `/assets/app.css`.
    public static let style = String(decoding: PackageResources.app_css, as: UTF8.self)
}
