import Foundation
import Harness

/// The dashboard's HTML pages: shells with the navigation and empty sections, which `/assets/app.js` fills from the
/// JSON API (as text nodes: nothing from the ledger is ever parsed as markup). The only values written into the HTML
/// itself are the workspace's name, the tag and a page's experiment number, escaped.
public enum DashboardPages {
    static func shell(_ data: DashboardData, page: String, title: String, number: Int? = nil, body: String) -> String {
        let name = escape(data.workspace.manifest.name)
        return """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(escape(title)) · \(name) · AutoResearch</title>
        <link rel="stylesheet" href="/assets/app.css">
        <script src="/assets/app.js" defer></script>
        </head>
        <body data-page="\(page)" data-tag="\(escape(data.tag))"\(number.map { " data-number=\"\($0)\"" } ?? "")>
        <header>
          <div class="brand">AutoResearch <span class="ws">\(name)</span> <span class="tag" id="tag-name">\(escape(data.tag))</span></div>
          <nav>
            <a href="/"\(page == "overview" ? " class=\"active\"" : "")>Overview</a>
            <a href="/experiments"\(page == "experiments" || page == "experiment" ? " class=\"active\"" : "")>Experiments</a>
            <a href="/swarm"\(page == "swarm" ? " class=\"active\"" : "")>Swarm &amp; meta-loop</a>
          </nav>
          <div class="live" id="live" title="live updates (Server-Sent Events)">connecting…</div>
        </header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// `/`: the standing, the controls, the progress chart, what runs now and the latest experiments.
    public static func overview(_ data: DashboardData) -> String {
        shell(data, page: "overview", title: "Overview", body: """
        <section class="cards" id="status"></section>
        <section class="panel" id="milestones-panel" hidden><h2>Milestones (Cotra)</h2><ul id="milestones" class="milestones"></ul></section>
        <section class="panel">
          <h2>Progress</h2>
          <div class="chart-tools">
            <button data-range="all">All</button><button data-range="1000">Last 1000</button><button data-range="100">Last 100</button>
            <span class="muted">wheel to zoom, drag to pan, double-click to reset</span>
          </div>
          <div id="chart" class="chart"></div>
        </section>
        <section class="panel"><h2>Running now</h2><div id="running" class="running"></div></section>
        <section class="panel" id="controls-panel">
          <h2>Loop control</h2>
          <p class="muted">Asks the running <code>autoresearch run</code> to stop after the experiments in flight, to pause, or to resume. Needs the token <code>autoresearch serve</code> printed.</p>
          <div class="controls">
            <button data-control="stop">Stop after current</button>
            <button data-control="pause">Pause</button>
            <button data-control="resume">Resume</button>
            <span id="control-state"></span>
          </div>
          <div id="control-message" class="message"></div>
        </section>
        <section class="panel"><h2>Latest experiments</h2><div id="latest"></div><p><a href="/experiments">All experiments →</a></p></section>
        """)
    }

    /// `/experiments`: the table with status filter, search, sorting and pages.
    public static func experiments(_ data: DashboardData) -> String {
        shell(data, page: "experiments", title: "Experiments", body: """
        <section class="panel">
          <div class="filters">
            <label>Status <select id="status-filter"><option value="all">all</option></select></label>
            <label>Search <input id="search" type="search" placeholder="description, researcher, slot, number"></label>
            <label>Rows <select id="page-size"><option>100</option><option>500</option><option>1000</option></select></label>
            <span id="count" class="muted"></span>
          </div>
          <table class="experiments" id="experiments">
            <thead><tr>
              <th data-sort="number">#</th><th data-sort="status">Status</th><th data-sort="metric">Metric</th>
              <th data-sort="test">Test</th><th data-sort="description">Description</th><th data-sort="researcher">Researcher</th>
              <th data-sort="memory">Memory GB</th><th data-sort="compute">Compute s</th><th data-sort="started">Started</th>
            </tr></thead>
            <tbody></tbody>
          </table>
          <div class="pager"><button id="prev">← Previous</button><span id="page-label"></span><button id="next">Next →</button></div>
        </section>
        """)
    }

    /// `/experiments/N`: one experiment.
    public static func experiment(_ data: DashboardData, number: Int) -> String {
        shell(data, page: "experiment", title: "Experiment \(number)", number: number, body: """
        <section class="panel" id="experiment"><p class="muted">Loading experiment \(number)…</p></section>
        <section class="panel"><h2>Decision evidence</h2><div id="evidence"></div></section>
        <section class="panel"><h2>Diff</h2><pre class="diff" id="diff"></pre></section>
        <section class="panel"><h2>Log (tail)</h2><pre class="log" id="log"></pre></section>
        <section class="panel"><h2>Researcher</h2><div id="spend"></div><div id="transcript" class="transcript"></div></section>
        """)
    }

    /// `/swarm`: workers, slots, utilisation, and the meta-loop's programs, windows and lineage.
    public static func swarm(_ data: DashboardData) -> String {
        shell(data, page: "swarm", title: "Swarm & meta-loop", body: """
        <section class="cards" id="swarm-cards"></section>
        <section class="panel"><h2>Workers</h2><div id="workers"></div></section>
        <section class="panel"><h2>Slots</h2><div id="slots"></div></section>
        <section class="panel"><h2>Research programs (meta-loop)</h2><div id="programs"></div></section>
        <section class="panel"><h2>Lineage</h2><div id="lineage" class="lineage"></div></section>
        <section class="panel"><h2>Windows</h2><div id="windows"></div></section>
        """)
    }

    static func notFound(_ data: DashboardData) -> String {
        shell(data, page: "missing", title: "Not found", body: "<section class=\"panel\"><p>No such page.</p></section>")
    }

    /// `text` safe in HTML text and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
