// The dashboard's script, part 1: helpers, the event stream, the controls, the overview and the table.
// Everything from the API goes into the page through `textContent` / `createTextNode` (the `el` helper), never
// as markup, so a description such as `<script>` shows as text.
'use strict';
const AR = (() => {
  const body = document.body;
  // The tag: `?tag=` in the address, else the one `serve` was started with; links keep a non-default one.
  const page = body.dataset.page, defaultTag = body.dataset.tag;
  const tag = new URL(location.href).searchParams.get('tag') || defaultTag;
  const withTag = (path) => tag === defaultTag ? path : path + (path.includes('?') ? '&' : '?') + 'tag=' + encodeURIComponent(tag);
  const SVGNS = 'http://www.w3.org/2000/svg';
  function add(e, kids) {
    for (const kid of kids.flat()) {
      if (kid == null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }
  function attrs(e, a) {
    for (const [k, v] of Object.entries(a || {})) {
      if (v == null || v === undefined || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'style') e.style.cssText = v;  // CSSOM: allowed by the page's Content-Security-Policy
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    }
    return e;
  }
  const el = (name, a, ...kids) => add(attrs(document.createElement(name), a), kids);
  const sv = (name, a, ...kids) => add(attrs(document.createElementNS(SVGNS, name), a), kids);
  const $ = (s, r) => (r || document).querySelector(s);
  const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
  const clear = (e) => { while (e && e.firstChild) e.removeChild(e.firstChild); return e; };
  const fill = (e, ...kids) => add(clear(e), kids);  // like append, but skips null (no "null" text)
  const num = (v, d) => (v == null || v === undefined || v === '' || Number.isNaN(Number(v))) ? '—' : Number(v).toFixed(d === undefined ? 4 : d);
  const signed = (v, d) => (v == null || v === undefined) ? '—' : (v >= 0 ? '+' : '') + Number(v).toFixed(d === undefined ? 4 : d);
  const when = (s) => s ? new Date(s * 1000).toLocaleString() : '—';
  function clock(seconds) {
    if (seconds == null || seconds === undefined) return '—';
    const s = Math.max(0, Math.round(seconds)), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(r).padStart(2, '0');
  }
  async function api(path, params) {
    const q = new URLSearchParams(params || {});
    if (tag) q.set('tag', tag);
    // With the token (`?token=` once, or a control sent), the owner's view: the hidden test split's scores too.
    const token = sessionStorage.getItem('autoresearch-control-token');
    const response = await fetch('/api/' + path + '?' + q.toString(), { cache: 'no-store', headers: token ? { 'Authorization': 'Bearer ' + token } : {} });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }
  const badge = (status) => el('span', { class: 'badge ' + String(status).replace(/[^a-z-]/gi, '') }, status);
  function table(columns, rows) {
    return el('table', { class: 'grid' },
      el('thead', null, el('tr', null, columns.map(c => el('th', null, c[0])))),
      el('tbody', null, rows.map(r => el('tr', null, columns.map(c => el('td', null, c[1](r)))))));
  }

  // The control token: `?token=` once (kept for this tab in sessionStorage, then removed from the address), or asked.
  const TOKEN_KEY = 'autoresearch-control-token';
  (() => {
    const url = new URL(location.href);
    const t = url.searchParams.get('token');
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
      url.searchParams.delete('token');
      history.replaceState(null, '', url.pathname + url.search + url.hash);
    }
  })();
  async function control(command) {
    let token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      token = (window.prompt('Control token (printed by autoresearch serve):') || '').trim();
      if (!token) return;
    }
    const message = $('#control-message');
    const response = await fetch('/api/control/' + encodeURIComponent(command), { method: 'POST', headers: { 'Authorization': 'Bearer ' + token } });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      sessionStorage.setItem(TOKEN_KEY, token);
      if (message) { message.className = 'message ok'; message.textContent = 'Sent: ' + command + ' (the loop now reads "' + data.state + '").'; }
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      if (message) { message.className = 'message error'; message.textContent = (data.error || response.statusText) + ' (HTTP ' + response.status + ')'; }
    }
    refresh();
  }
  $$('button[data-control]').forEach(b => b.addEventListener('click', () => control(b.dataset.control)));

  // Live updates: one EventSource per page; every `update` refreshes what the page shows.
  const listeners = [];
  let updates = 0;
  function onUpdate(f) { listeners.push(f); }
  function refresh(event) { for (const f of listeners) { Promise.resolve(f(event)).catch(e => console.error(e)); } }
  // A browser allows six connections to a host over HTTP/1.1 and an open stream holds one: close it when the page
  // is hidden away (navigation, the back-forward cache) and open it again when the page comes back.
  let source = null;
  function connect() {
    const live = $('#live');
    if (source) source.close();
    source = new EventSource(withTag('/api/events'));
    source.addEventListener('hello', () => { live.textContent = 'live'; live.className = 'live on'; });
    source.addEventListener('update', (e) => {
      updates += 1;
      body.dataset.updates = String(updates);
      let data = {};
      try { data = JSON.parse(e.data); } catch (_) {}
      refresh(data);
    });
    source.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'live off'; };
  }
  window.addEventListener('pagehide', () => { if (source) { source.close(); source = null; } });
  window.addEventListener('pageshow', (e) => { if (e.persisted) { connect(); refresh(); } });

  // Overview.
  function card(label, value, detail) { return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value), detail ? el('div', { class: 'detail' }, detail) : null); }
  async function overviewStatus() {
    const s = await api('status');
    const delta = (s.baseline != null && s.best != null) ? s.best - s.baseline : null;
    const rate = s.experiments ? Math.round(100 * s.keeps / s.experiments) + '% kept' : '';
    clear($('#status')).append(
      card('Experiments', String(s.experiments), s.keeps + ' kept, ' + s.crashes + ' crashed ' + rate),
      card('Best ' + s.metric, num(s.best, 6), 'baseline ' + num(s.baseline, 6) + ' (' + signed(delta, 6) + ')'),
      card('Hidden test', num(s.bestTest, 6), 'baseline ' + num(s.baselineTest, 6)),
      card('Noise σ', num(s.noiseSigma, 6), s.budgetMode === 'tokens' ? s.budgetTokens + ' tokens per run' : s.budgetSeconds + ' s per run'),
      card('Running', String(s.running), 'loop: ' + s.control + (s.controlBy ? ' (by ' + s.controlBy + ')' : '')),
      card('Researcher spend', '$' + Number(s.costUSD).toFixed(2), s.meta || ('tag ' + s.tag + ', branch ' + s.branch)));
    const state = $('#control-state');
    if (state) { state.textContent = 'loop: ' + s.control; state.className = 'state ' + s.control; }
    const ms = s.milestones || [];
    $('#milestones-panel').hidden = ms.length === 0;
    clear($('#milestones')).append(...ms.map(m => el('li', { class: 'milestone ' + (m.reached === true ? 'reached' : m.reached === false ? 'not-yet' : 'unmeasured') },
      el('b', null, m.name), ' ', badge(m.reached === true ? 'reached' : m.reached === false ? 'not yet' : 'not measured'), ' ', m.detail)));
  }
  let runningTimer = null;
  async function overviewRunning() {
    const running = await api('running');
    const box = clear($('#running'));
    if (!running.length) box.append(el('p', { class: 'muted' }, 'Nothing is running.'));
    for (const r of running) {
      const fraction = r.budgetSeconds > 0 ? Math.min(1, r.elapsedSeconds / r.budgetSeconds) : 0;
      box.append(el('div', { class: 'run', 'data-number': r.number },
        el('div', { class: 'run-head' }, el('a', { href: withTag('/experiments/' + r.number) }, '#' + r.number), ' ', r.description),
        el('div', { class: 'muted' }, 'phase ' + (r.phase || '?') + ' · ' + r.researcher + (r.worker != null ? ' · worker ' + r.worker : '') + (r.slot ? ' · slot ' + r.slot : '')),
        el('div', { class: 'bar' }, el('div', { class: 'fill', style: 'width:' + (100 * fraction).toFixed(1) + '%' })),
        el('div', { class: 'muted' }, clock(r.elapsedSeconds) + ' elapsed of a ' + clock(r.budgetSeconds) + ' training budget'),
        AR.curveChart(r.curve)));
    }
    clearTimeout(runningTimer);
    if (running.length) runningTimer = setTimeout(() => overviewRunning().catch(() => {}), 2000);
  }
  async function overviewLatest() {
    const pageData = await api('experiments', { sort: 'number', desc: '1', limit: '10' });
    clear($('#latest')).append(experimentTable(pageData.rows, false));
  }
  function experimentTable(rows, withBody) {
    const tr = rows.map(r => el('tr', { 'data-number': r.number, class: 'row ' + r.status },
      el('td', null, el('a', { href: withTag('/experiments/' + r.number) }, String(r.number))), el('td', null, badge(r.status)),
      el('td', { class: 'num' }, num(r.metric, 6)), el('td', { class: 'num' }, num(r.testBPB, 6)),
      el('td', { class: 'desc' }, el('a', { href: withTag('/experiments/' + r.number) }, r.description)), el('td', null, r.researcher),
      el('td', { class: 'num' }, num(r.memoryGB, 1)), el('td', { class: 'num' }, num(r.computeSeconds, 0)), el('td', null, when(r.startedAt))));
    if (withBody) return tr;
    return el('table', { class: 'experiments' }, el('thead', null, el('tr', null, ['#', 'Status', 'Metric', 'Test', 'Description', 'Researcher', 'Memory GB', 'Compute s', 'Started'].map(h => el('th', null, h)))), el('tbody', null, tr));
  }

  // Experiments table: filter, search, sort, pages; reloaded on every update, keeping what the user chose.
  const query = { status: 'all', q: '', sort: 'number', desc: '0', offset: 0, limit: 100 };
  async function tablePage() {
    const data = await api('experiments', { status: query.status, q: query.q, sort: query.sort, desc: query.desc, offset: String(query.offset), limit: String(query.limit) });
    clear($('#experiments tbody')).append(...experimentTable(data.rows, true));
    const select = $('#status-filter');
    const chosen = select.value;
    clear(select).append(el('option', { value: 'all' }, 'all (' + data.total + ')'),
      ...Object.keys(data.statuses).sort().map(s => el('option', { value: s }, s + ' (' + data.statuses[s] + ')')));
    select.value = Array.from(select.options).some(o => o.value === chosen) ? chosen : 'all';
    $('#count').textContent = data.matched + ' of ' + data.total + ' experiments';
    const last = Math.min(data.matched, data.offset + data.rows.length);
    $('#page-label').textContent = data.matched ? (data.offset + 1) + '–' + last + ' of ' + data.matched : 'none';
    $('#prev').disabled = data.offset === 0;
    $('#next').disabled = last >= data.matched;
    $$('#experiments th[data-sort]').forEach(th => { th.className = th.dataset.sort === query.sort ? (query.desc === '1' ? 'sorted desc' : 'sorted asc') : ''; });
  }
  function setupTable() {
    let timer = null;
    $('#status-filter').addEventListener('change', e => { query.status = e.target.value; query.offset = 0; tablePage(); });
    $('#search').addEventListener('input', e => { clearTimeout(timer); timer = setTimeout(() => { query.q = e.target.value; query.offset = 0; tablePage(); }, 200); });
    $('#page-size').addEventListener('change', e => { query.limit = Number(e.target.value); query.offset = 0; tablePage(); });
    $('#prev').addEventListener('click', () => { query.offset = Math.max(0, query.offset - query.limit); tablePage(); });
    $('#next').addEventListener('click', () => { query.offset += query.limit; tablePage(); });
    $$('#experiments th[data-sort]').forEach(th => th.addEventListener('click', () => {
      if (query.sort === th.dataset.sort) query.desc = query.desc === '1' ? '0' : '1'; else { query.sort = th.dataset.sort; query.desc = '0'; }
      query.offset = 0; tablePage();
    }));
    onUpdate(tablePage);
    return tablePage();
  }

  // The header's tag menu (every tag of the ledger) and links that keep the tag.
  async function tagMenu() {
    $$('header nav a').forEach(a => a.setAttribute('href', withTag(a.getAttribute('href'))));
    $$('a[href="/experiments"]').forEach(a => a.setAttribute('href', withTag('/experiments')));
    const s = await api('status');
    const select = el('select', { id: 'tag-select', title: 'tag' }, s.tags.map(t => el('option', { value: t }, t)));
    select.value = tag;
    select.addEventListener('change', () => {
      const url = new URL(location.origin + (page === 'experiment' ? '/experiments' : location.pathname));
      if (select.value !== defaultTag) url.searchParams.set('tag', select.value);
      location.href = url.pathname + url.search;
    });
    $('#tag-name').replaceWith(select);
  }

  let chartCount = null;
  async function start() {
    connect();
    tagMenu().catch(e => console.error(e));
    if (page === 'overview') {
      const chart = AR.progressChart($('#chart'));
      onUpdate(overviewStatus); onUpdate(overviewRunning); onUpdate(overviewLatest);
      // The chart (every point of the tag) loads again only when experiments finished, not on each phase change.
      onUpdate((event) => (!event || (event.finished && event.finished.length) || event.experiments !== chartCount) ? chart.load().then(() => { chartCount = event && event.experiments; }) : null);
      await Promise.all([overviewStatus(), overviewRunning(), overviewLatest(), chart.load()]);
    } else if (page === 'experiments') {
      await setupTable();
    } else if (page === 'experiment') {
      onUpdate(AR.experimentPage);
      await AR.experimentPage();
    } else if (page === 'swarm') {
      onUpdate(AR.swarmPage);
      await AR.swarmPage();
    }
    body.dataset.ready = '1';
  }
  return { el, sv, $, $$, clear, fill, withTag, num, signed, when, clock, api, badge, table, page, tag, start, SVGNS };
})();
