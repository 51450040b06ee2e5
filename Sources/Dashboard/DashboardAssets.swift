/// What the binary serves under `/assets/`: one script and one stylesheet, compiled in (no CDN, no network).
public enum DashboardAssets {
    /// `/assets/app.js`: helpers, live updates and controls, the charts, then each page's code.
    public static let script = DashboardScript.core + "\n" + DashboardChartScript.charts + "\n" + DashboardPageScript.pages

    /// `/assets/app.css`.
    public static let style = #"""
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2330; background: #f3f5f8; }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2330; color: #fff; }
header .brand { font-weight: 700; font-size: 16px; }
header .ws { font-weight: 400; color: #b8c2d6; margin-left: 6px; }
header #tag-select { margin-left: 6px; font-size: 12px; }
header .tag { font-weight: 400; background: #34405a; border-radius: 4px; padding: 1px 8px; margin-left: 6px; font-size: 12px; }
header nav a { color: #cfd6e6; text-decoration: none; margin-right: 16px; padding: 4px 0; }
header nav a.active { color: #fff; border-bottom: 2px solid #2ecc71; }
.live { margin-left: auto; font-size: 12px; color: #aab; }
.live.on::before { content: "●"; color: #2ecc71; margin-right: 5px; }
.live.off::before { content: "●"; color: #e67e22; margin-right: 5px; }
main { padding: 18px 24px; max-width: 1500px; margin: 0 auto; }
h1 { font-size: 20px; margin: 0 0 8px; word-break: break-word; }
h2 { font-size: 15px; margin: 0 0 10px; color: #34405a; }
a { color: #2165b0; }
.panel { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 10px 14px; }
.card .label { font-size: 12px; color: #6b7588; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .detail { font-size: 12px; color: #6b7588; }
.muted { color: #6b7588; }
.controls { display: flex; gap: 8px; align-items: center; }
button { font: inherit; padding: 5px 12px; border: 1px solid #b8c2d6; border-radius: 6px; background: #f7f9fc; cursor: pointer; }
button:hover { background: #e9eef6; }
button:disabled { opacity: .45; cursor: default; }
.state { font-weight: 600; margin-left: 8px; }
.state.paused { color: #e67e22; } .state.stopping { color: #c0392b; } .state.running { color: #1e8449; }
.message { margin-top: 8px; }
.message.ok { color: #1e8449; } .message.error { color: #c0392b; }
.chart { position: relative; }
.chart svg.progress { width: 100%; height: auto; user-select: none; cursor: grab; }
.chart-tools { display: flex; gap: 6px; align-items: center; margin-bottom: 6px; }
.tip { position: absolute; pointer-events: none; background: rgba(29, 35, 48, .94); color: #fff; padding: 6px 9px; border-radius: 5px; font-size: 12px; max-width: 420px; z-index: 5; word-break: break-word; }
circle.pt, circle.test { cursor: pointer; }
circle.pt:hover { stroke: #000; stroke-width: 1.5; }
.running { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px; }
.run { border: 1px solid #dde2ea; border-radius: 6px; padding: 10px; }
.run-head { font-weight: 600; word-break: break-word; }
.bar { height: 6px; background: #e6eaf0; border-radius: 3px; margin: 6px 0 2px; overflow: hidden; }
.bar .fill { height: 100%; background: #3498db; }
svg.curve { width: 100%; height: auto; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #edf0f4; vertical-align: top; }
th { font-size: 12px; color: #6b7588; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.desc { word-break: break-word; }
table.experiments th[data-sort] { cursor: pointer; white-space: nowrap; }
table.experiments th.sorted.asc::after { content: " ▲"; } table.experiments th.sorted.desc::after { content: " ▼"; }
tr.row.keep td { background: #f1fbf4; }
tr.row.running td { background: #eef6fd; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #e6eaf0; color: #34405a; }
.badge.keep, .badge.kept, .badge.baseline, .badge.done { background: #d4f4df; color: #1e8449; }
.badge.discard, .badge.retired { background: #eceff3; color: #6b7588; }
.badge.crash, .badge.invalid, .badge.refused, .badge.researcher-error, .badge.researcherError { background: #fadbd8; color: #a93226; }
.badge.running, .badge.live, .badge.rerun { background: #d6eaf8; color: #21618c; }
.filters { display: flex; gap: 16px; align-items: center; margin-bottom: 10px; flex-wrap: wrap; }
.filters input[type=search] { width: 320px; padding: 4px 8px; font: inherit; }
.pager { display: flex; gap: 12px; align-items: center; justify-content: center; margin-top: 10px; }
.facts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
.hypothesis { background: #f7f9fc; border-left: 3px solid #3498db; padding: 6px 10px; word-break: break-word; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
pre.diff, pre.log { background: #fbfcfd; border: 1px solid #edf0f4; border-radius: 6px; padding: 8px; max-height: 560px; overflow: auto; }
pre.diff .add { color: #1e8449; background: #eafaf0; display: block; }
pre.diff .del { color: #b03a2e; background: #fdf0ef; display: block; }
pre.diff .hunk { color: #2165b0; display: block; }
pre.diff .file, pre.diff .meta { font-weight: 700; display: block; }
pre.diff .ctx { display: block; }
.transcript .entry { border-left: 3px solid #dde2ea; padding: 4px 10px; margin: 6px 0; }
.transcript .entry.assistant { border-color: #3498db; } .transcript .entry.tool, .transcript .entry.tool_result { border-color: #e67e22; }
.transcript .kind { font-size: 11px; color: #6b7588; }
.milestones { list-style: none; padding: 0; margin: 0; }
.milestones li { margin: 4px 0; }
.badge.reached { background: #d4f4df; color: #1e8449; }
.lineage ul { list-style: none; padding-left: 22px; border-left: 1px dashed #c9d1dd; margin: 4px 0; }
.lineage > ul { border-left: none; padding-left: 0; }
.lineage li { margin: 4px 0; }
.lineage .node { font-weight: 600; }
.lineage .node.incumbent { color: #1e8449; }
"""#
}
