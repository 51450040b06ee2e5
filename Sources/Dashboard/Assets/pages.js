// The dashboard's script, part 3: the experiment page and the swarm / meta-loop page, then the start.
AR.diffLines = function (diff) {
  // One span per line, classed by its first characters: + added (green), - removed (red), @@ hunk (blue).
  return diff.split('\n').map(line => {
    let cls = 'ctx';
    if (line.startsWith('diff --git') || line.startsWith('index ')) cls = 'meta';
    else if (line.startsWith('+++') || line.startsWith('---')) cls = 'file';
    else if (line.startsWith('@@')) cls = 'hunk';
    else if (line.startsWith('+')) cls = 'add';
    else if (line.startsWith('-')) cls = 'del';
    return AR.el('span', { class: cls }, line + '\n');
  });
};

AR.experimentPage = async function () {
  const { el, $, clear, num, signed, when, badge, api } = AR;
  const n = document.body.dataset.number;
  let e;
  try { e = await api('experiments/' + n); } catch (error) { clear($('#experiment')).append(el('p', { class: 'message error' }, String(error.message))); return; }
  // While it runs, its log grows without a ledger change: read it again every 3 s.
  clearTimeout(AR.experimentTimer);
  if (e.status === 'running') AR.experimentTimer = setTimeout(() => AR.experimentPage().catch(() => {}), 3000);
  document.title = '#' + e.number + ' ' + e.description;
  const facts = [
    ['Status', badge(e.status)], ['Phase', e.phase || '—'], ['Metric', num(e.metric, 6)], ['Hidden test', num(e.testBPB, 6)],
    ['Researcher', e.researcher], ['Move', e.move || '—'], ['Commit', e.commit || '—'], ['Parent', e.parentCommit || '—'],
    ['Worker / slot', (e.worker == null ? '—' : e.worker) + ' / ' + (e.slot || '—')],
    ['Program / window', (e.program == null ? '—' : e.program) + ' / ' + (e.window == null ? '—' : e.window)],
    ['Started', when(e.startedAt)], ['Finished', when(e.finishedAt)]];
  const metrics = Object.keys(e.metrics).sort().map(k => el('tr', null, el('td', null, k), el('td', { class: 'num' }, num(e.metrics[k], 4))));
  AR.fill($('#experiment'),
    el('h1', null, el('span', { class: 'muted' }, '#' + e.number + ' '), el('span', { id: 'description' }, e.description)),
    e.hypothesis ? el('p', { class: 'hypothesis' }, el('b', null, 'Hypothesis: '), el('span', { id: 'hypothesis' }, e.hypothesis)) : null,
    e.error ? el('p', { class: 'message error' }, e.error) : null,
    el('div', { class: 'facts' }, el('table', { class: 'grid' }, el('tbody', null, facts.map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v))))),
      metrics.length ? el('table', { class: 'grid' }, el('thead', null, el('tr', null, el('th', null, 'Summary'), el('th', null, 'Value'))), el('tbody', null, metrics)) : null));
  const ev = e.evidence;
  clear($('#evidence')).append(ev ? el('div', null,
    el('table', { class: 'grid' }, el('tbody', null,
      el('tr', null, el('th', null, 'Runs'), el('td', { id: 'runs' }, ev.runs.map(r => num(r, 6)).join(', ') + (ev.disturbedRuns ? ' (' + ev.disturbedRuns + ' disturbed runs left out)' : ''))),
      el('tr', null, el('th', null, 'Mean'), el('td', null, num(ev.mean, 6))),
      el('tr', null, el('th', null, 'Best it was compared with'), el('td', null, num(ev.best, 6) + (ev.bestRuns ? ' (' + ev.bestRuns + ' runs)' : ''))),
      el('tr', null, el('th', null, 'Noise σ'), el('td', null, num(ev.sigma, 6))),
      el('tr', null, el('th', null, 'Threshold'), el('td', null, num(ev.threshold, 6))),
      el('tr', null, el('th', null, 'Improvement'), el('td', null, signed(ev.improvement, 6))),
      el('tr', null, el('th', null, 'Verdict'), el('td', null, badge(ev.verdict))))),
    el('p', null, ev.reason)) : el('p', { class: 'muted' }, 'No decision recorded (yet).'));
  clear($('#diff')).append(...(e.diff ? AR.diffLines(e.diff) : [el('span', { class: 'muted' }, '(no diff)')]));
  clear($('#log')).append(e.logTail || '(no log)');
  const spend = [];
  if (e.inputTokens != null || e.outputTokens != null) spend.push('tokens: ' + (e.inputTokens || 0) + ' in, ' + (e.outputTokens || 0) + ' out' + (e.cacheReadTokens ? ', ' + e.cacheReadTokens + ' read from cache' : '') + (e.cacheWriteTokens ? ', ' + e.cacheWriteTokens + ' written to cache' : ''));
  if (e.costUSD != null) spend.push('cost: $' + Number(e.costUSD).toFixed(4));
  if (e.buildFixes) spend.push('build fixes: ' + e.buildFixes);
  clear($('#spend')).append(el('p', { class: 'muted' }, spend.length ? spend.join(' · ') : 'No spend recorded (the search researcher costs nothing).'));
  clear($('#transcript')).append(...(e.transcript.length ? e.transcript.map(t => el('div', { class: 'entry ' + String(t.kind).replace(/[^a-z_-]/gi, '') },
    el('div', { class: 'kind' }, t.kind + ' · ' + num(t.at, 1) + ' s'), el('pre', null, t.text))) : [el('p', { class: 'muted' }, 'No transcript.')]));
};

AR.swarmPage = async function () {
  const { el, $, clear, num, signed, table, badge, api } = AR;
  const s = await api('swarm');
  const card = (label, value) => el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  clear($('#swarm-cards')).append(card('Workers', String(s.workers.length)), card('Slots', String(s.slots.length)),
    card('Slot utilisation', s.utilisation == null ? '—' : (100 * s.utilisation).toFixed(1) + '%'),
    card('Experiments per hour', s.experimentsPerHour == null ? '—' : num(s.experimentsPerHour, 1)),
    card('Programs', String(s.programs.length) + (s.incumbent ? ' (incumbent ' + s.incumbent + ')' : '')));
  clear($('#workers')).append(table([['Worker', w => 'w' + w.worker], ['Researcher', w => w.researcher], ['Experiments', w => String(w.experiments)], ['Keeps', w => String(w.keeps)]], s.workers));
  clear($('#slots')).append(table([['Slot', x => x.slot], ['Experiments', x => String(x.experiments)], ['Compute hours', x => num(x.computeHours, 2)]], s.slots));
  if (!s.programs.length) {
    clear($('#programs')).append(el('p', { class: 'muted' }, 'No research programs: run with --meta to start the meta-loop.'));
    clear($('#lineage')); clear($('#windows'));
    return;
  }
  clear($('#programs')).append(table([['#', p => String(p.number)], ['Parent', p => p.parent == null ? '—' : String(p.parent)],
    ['Status', p => badge(p.status)], ['Windows', p => String(p.windows)], ['Mean score', p => signed(p.meanScore, 2)],
    ['Experiments', p => String(p.experiments)], ['Keeps', p => String(p.keeps)], ['Proposer', p => p.proposer],
    ['Description', p => p.description], ['Why', p => p.reason || '']], s.programs));
  const children = new Map();
  for (const p of s.programs) { const k = p.parent == null ? 0 : p.parent; if (!children.has(k)) children.set(k, []); children.get(k).push(p); }
  const seen = new Set();
  const tree = (parent) => el('ul', null, (children.get(parent) || []).filter(p => !seen.has(p.number)).map(p => {
    seen.add(p.number);
    return el('li', null, el('span', { class: 'node' + (p.number === s.incumbent ? ' incumbent' : '') }, 'program ' + p.number),
      ' ', badge(p.status), ' ', p.description, p.number === s.incumbent ? ' (incumbent)' : '', tree(p.number));
  }));
  clear($('#lineage')).append(tree(0));
  clear($('#windows')).append(table([['Window', w => String(w.number)], ['Program', w => String(w.program)], ['Control', w => String(w.control)],
    ['Base', w => num(w.baseMetric, 6)], ['Program progress', w => num(w.programProgress, 6)], ['Control progress', w => num(w.controlProgress, 6)],
    ['Score', w => signed(w.score, 2)], ['Per hour', w => signed(w.scorePerHour, 2)], ['Status', w => badge(w.status)]], s.windows));
};

AR.start().catch(e => console.error(e));
