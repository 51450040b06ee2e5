// The dashboard's script, part 2: the charts, as SVG built in the browser (no library).
//
// - `progressChart`: x = experiment number; discards as small grey dots, the baseline and keeps as green dots
//   labelled with their descriptions, the running best as a step line, the hidden-test value of each keep as a
//   dashed purple line; zoom with the wheel or the range buttons, pan by dragging, double-click resets; a hover box
//   per point. Every point is a `circle` with `data-n` (its experiment) and `data-kind`.
// - `curveChart`: a running experiment's loss (left axis) and tokens per second (right axis) against step.
AR.ticks = function (lo, hi, count, integers) {
  if (!(hi > lo) || !isFinite(lo) || !isFinite(hi)) return [];
  const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || 10 * mag;
  if (integers) step = Math.max(1, Math.ceil(step));
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && out.length < 50; v += step) out.push(v);
  const decimals = integers ? 0 : Math.max(0, -Math.floor(Math.log10(step)) + (Math.abs(step / Math.pow(10, Math.floor(Math.log10(step))) - 2.5) < 1e-9 ? 1 : 0));
  return out.map(v => [v, v.toFixed(decimals)]);
};

AR.progressChart = function (container) {
  const { sv, el, clear, num } = AR;
  const W = 1100, H = 460, L = 80, R = 20, T = 24, B = 48, PW = W - L - R, PH = H - T - B;
  let data = { points: [], labels: [], lowerIsBetter: true, metric: 'val_bpb' };
  let view = null;  // [x0, x1] or null for everything
  const tip = el('div', { class: 'tip', hidden: true });
  const svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'progress', role: 'img', 'aria-label': 'progress chart' });
  container.append(svg, tip);
  const better = (a, b) => data.lowerIsBetter ? a < b : a > b;

  function domain() {
    const xs = data.points.map(p => p[0]);
    const lo = xs.length ? Math.min(...xs) : 0, hi = xs.length ? Math.max(...xs) : 1;
    return [lo, Math.max(hi, lo + 1)];
  }
  function draw() {
    clear(svg);
    const [d0, d1] = domain();
    let [x0, x1] = view || [d0, d1];
    const pad = Math.max(0.5, (x1 - x0) * 0.02);
    x0 -= pad; x1 += pad;
    const visible = data.points.filter(p => p[0] >= x0 && p[0] <= x1);
    svg.append(sv('rect', { x: L, y: T, width: PW, height: PH, fill: '#fff', stroke: '#333' }));
    if (!visible.length) {
      svg.append(sv('text', { x: L + PW / 2, y: T + PH / 2, 'text-anchor': 'middle', fill: '#666' }, 'no finished experiments yet'));
      return;
    }
    // y: from the best value in view to the worst kept (or baseline) value in view, plus most discards.
    const kept = visible.filter(p => p[2] > 0).map(p => p[1]).concat(visible.filter(p => p[3] != null).map(p => p[3]));
    const discards = visible.filter(p => p[2] === 0).map(p => p[1]).sort((a, b) => a - b);
    const q = discards.length ? discards[Math.floor((data.lowerIsBetter ? 0.9 : 0.1) * (discards.length - 1))] : null;
    const ys = kept.concat(q == null ? [] : [q]).concat(discards.length && !kept.length ? discards : []);
    let lo = Math.min(...ys, ...discards.slice(0, 1)), hi = Math.max(...ys);
    if (!data.lowerIsBetter) { lo = Math.min(...ys); hi = Math.max(...ys, ...discards.slice(-1)); }
    if (!(hi > lo)) { const e = Math.max(Math.abs(lo) * 0.01, 1e-6); lo -= e; hi += e; }
    const span = hi - lo; lo -= span * 0.08; hi += span * 0.08;
    const px = n => L + (n - x0) / (x1 - x0) * PW, py = m => T + (hi - m) / (hi - lo) * PH;
    for (const [v, label] of AR.ticks(lo, hi, 6)) {
      svg.append(sv('line', { x1: L, x2: L + PW, y1: py(v), y2: py(v), stroke: '#eee' }),
        sv('text', { x: L - 8, y: py(v) + 4, 'text-anchor': 'end', 'font-size': 11 }, label));
    }
    for (const [v, label] of AR.ticks(Math.max(0, x0), x1, 8, true)) {
      svg.append(sv('line', { x1: px(v), x2: px(v), y1: T + PH, y2: T + PH + 5, stroke: '#333' }),
        sv('text', { x: px(v), y: T + PH + 18, 'text-anchor': 'middle', 'font-size': 11 }, label));
    }
    svg.append(sv('text', { x: L + PW / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 12 }, 'Experiment #'),
      sv('text', { x: 16, y: T + PH / 2, 'text-anchor': 'middle', 'font-size': 12, transform: 'rotate(-90 16 ' + (T + PH / 2) + ')' },
        data.metric + (data.lowerIsBetter ? ' (lower is better)' : ' (higher is better)')));
    const clipID = 'plot-clip';
    svg.append(sv('defs', null, sv('clipPath', { id: clipID }, sv('rect', { x: L, y: T, width: PW, height: PH }))));
    const g = sv('g', { 'clip-path': 'url(#' + clipID + ')' });
    svg.append(g);
    // Running best over every point (so a zoomed view starts at the best so far), drawn as steps.
    const steps = [];
    let best = null;
    for (const p of data.points) {
      if (p[2] === 0) continue;
      if (best == null || better(p[1], best)) { best = p[1]; steps.push([p[0], best]); }
    }
    if (steps.length) {
      let d = 'M ' + px(steps[0][0]) + ' ' + py(steps[0][1]);
      for (const [n, m] of steps.slice(1)) d += ' H ' + px(n) + ' V ' + py(m);
      d += ' H ' + px(Math.max(d1, x1));
      g.append(sv('path', { class: 'running-best', d, fill: 'none', stroke: '#27ae60', 'stroke-width': 2, 'stroke-opacity': 0.7 }));
    }
    const tests = data.points.filter(p => p[2] > 0 && p[3] != null);
    if (tests.length) {
      g.append(sv('path', { class: 'test-line', d: tests.map((p, i) => (i ? 'L ' : 'M ') + px(p[0]) + ' ' + py(p[3])).join(' '), fill: 'none', stroke: '#8e44ad', 'stroke-width': 1.5, 'stroke-dasharray': '5 3' }));
    }
    const index = new Map(data.points.map((p, i) => [p, i]));
    for (const p of visible) if (p[2] === 0) g.append(sv('circle', { class: 'pt discard', 'data-n': p[0], 'data-kind': 'discard', 'data-i': index.get(p), cx: px(p[0]), cy: py(p[1]), r: 3, fill: '#bbb', 'fill-opacity': 0.7 }));
    for (const p of visible) if (p[2] > 0 && p[3] != null) g.append(sv('circle', { class: 'test', 'data-test': p[0], 'data-i': index.get(p), cx: px(p[0]), cy: py(p[3]), r: 3, fill: '#8e44ad' }));
    const keeps = visible.filter(p => p[2] > 0);
    for (const p of keeps) g.append(sv('circle', { class: 'pt keep', 'data-n': p[0], 'data-kind': p[2] === 2 ? 'baseline' : 'keep', 'data-i': index.get(p), cx: px(p[0]), cy: py(p[1]), r: 5.5, fill: '#2ecc71', stroke: '#000', 'stroke-width': 0.5 }));
    // Labels for the keeps in view (up to 80), each skipped when it would land on one already drawn.
    if (keeps.length <= 80) {
      const placed = [];
      for (const p of keeps) {
        const x = px(p[0]) + 7, y = py(p[1]) - 7, text = p[2] === 2 ? 'baseline' : data.labels[index.get(p)];
        if (placed.some(([a, b]) => Math.abs(a - x) < 90 && Math.abs(b - y) < 16)) continue;
        placed.push([x, y]);
        svg.append(sv('text', { class: 'label', x, y, 'font-size': 10, fill: '#1a7a3a', transform: 'rotate(-25 ' + x + ' ' + y + ')' }, text.length > 40 ? text.slice(0, 39) + '…' : text));
      }
    }
    const lx = L + PW - 160, ly = T + 14;
    svg.append(sv('rect', { x: lx - 10, y: ly - 12, width: 165, height: tests.length ? 76 : 58, fill: '#fff', 'fill-opacity': 0.9, stroke: '#ccc' }),
      sv('circle', { cx: lx, cy: ly, r: 3, fill: '#bbb' }), sv('text', { x: lx + 12, y: ly + 4, 'font-size': 11 }, 'Discarded'),
      sv('circle', { cx: lx, cy: ly + 18, r: 5.5, fill: '#2ecc71', stroke: '#000', 'stroke-width': 0.5 }), sv('text', { x: lx + 12, y: ly + 22, 'font-size': 11 }, 'Kept'),
      sv('line', { x1: lx - 6, x2: lx + 6, y1: ly + 36, y2: ly + 36, stroke: '#27ae60', 'stroke-width': 2 }), sv('text', { x: lx + 12, y: ly + 40, 'font-size': 11 }, 'Running best'));
    if (tests.length) svg.append(sv('line', { x1: lx - 6, x2: lx + 6, y1: ly + 54, y2: ly + 54, stroke: '#8e44ad', 'stroke-width': 1.5, 'stroke-dasharray': '5 3' }), sv('text', { x: lx + 12, y: ly + 58, 'font-size': 11 }, 'Hidden test (keeps)'));
    svg.dataset.x0 = x0; svg.dataset.x1 = x1;
  }

  // Hover box per point.
  svg.addEventListener('mouseover', (e) => {
    const c = e.target.closest('circle[data-i]');
    if (!c) return;
    const p = data.points[Number(c.dataset.i)], label = data.labels[Number(c.dataset.i)];
    const kind = c.classList.contains('test') ? 'hidden test' : (p[2] === 2 ? 'baseline' : p[2] === 1 ? 'kept' : 'discarded');
    clear(tip).append(el('b', null, '#' + p[0] + ' ' + kind), el('br'), label, el('br'),
      data.metric + ' ' + num(p[1], 6) + (p[3] != null ? ' · test ' + num(p[3], 6) : ''));
    const box = container.getBoundingClientRect();
    tip.style.left = (e.clientX - box.left + 12) + 'px'; tip.style.top = (e.clientY - box.top + 12) + 'px';
    tip.hidden = false;
  });
  svg.addEventListener('mouseout', (e) => { if (e.target.closest('circle[data-i]')) tip.hidden = true; });
  svg.addEventListener('click', (e) => { const c = e.target.closest('circle[data-n]'); if (c) location.href = AR.withTag('/experiments/' + c.dataset.n); });
  // Zoom (wheel, around the pointer), pan (drag), reset (double-click, "All").
  const toNumber = (clientX) => {
    const r = svg.getBoundingClientRect(), x0 = Number(svg.dataset.x0), x1 = Number(svg.dataset.x1);
    return x0 + ((clientX - r.left) / r.width * W - L) / PW * (x1 - x0);
  };
  svg.addEventListener('wheel', (e) => {
    e.preventDefault();
    const [d0, d1] = domain(), [a, b] = view || [d0, d1], at = toNumber(e.clientX), f = e.deltaY < 0 ? 0.8 : 1.25;
    let x0 = at - (at - a) * f, x1 = at + (b - at) * f;
    if (x1 - x0 < 5) return;
    view = (x0 <= d0 && x1 >= d1) ? null : [Math.max(d0 - 1, x0), Math.min(d1 + 1, x1)];
    draw();
  }, { passive: false });
  let drag = null;
  svg.addEventListener('mousedown', (e) => { drag = { x: e.clientX, view: view || domain() }; });
  window.addEventListener('mouseup', () => { drag = null; });
  svg.addEventListener('mousemove', (e) => {
    if (!drag || e.buttons !== 1) return;
    const r = svg.getBoundingClientRect(), [a, b] = drag.view;
    const shift = (e.clientX - drag.x) / r.width * W / PW * (b - a);
    if (Math.abs(shift) > 0) { view = [a - shift, b - shift]; draw(); }
  });
  svg.addEventListener('dblclick', () => { view = null; draw(); });
  AR.$$('button[data-range]').forEach(b => b.addEventListener('click', () => {
    const [d0, d1] = domain();
    view = b.dataset.range === 'all' ? null : [Math.max(d0, d1 - Number(b.dataset.range)), d1];
    draw();
  }));
  return {
    async load() { data = await AR.api('chart'); container.dataset.points = String(data.points.length); draw(); },
  };
};

AR.curveChart = function (curve) {
  const { sv, num } = AR;
  const W = 460, H = 160, L = 48, R = 56, T = 10, B = 26, PW = W - L - R, PH = H - T - B;
  const svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'curve', 'data-points': curve.length });
  svg.append(sv('rect', { x: L, y: T, width: PW, height: PH, fill: '#fff', stroke: '#999' }));
  if (curve.length < 1) { svg.append(sv('text', { x: L + PW / 2, y: T + PH / 2, 'text-anchor': 'middle', fill: '#888', 'font-size': 12 }, 'no training steps logged yet')); return svg; }
  const steps = curve.map(p => p[0]), losses = curve.map(p => p[1]), tps = curve.filter(p => p[2] != null).map(p => p[2]);
  const s0 = Math.min(...steps), s1 = Math.max(...steps, s0 + 1);
  let l0 = Math.min(...losses), l1 = Math.max(...losses); if (!(l1 > l0)) { l0 -= 0.5; l1 += 0.5; }
  let t0 = 0, t1 = tps.length ? Math.max(...tps) * 1.1 : 1;
  const px = s => L + (s - s0) / (s1 - s0) * PW, pl = v => T + (l1 - v) / (l1 - l0) * PH, pt = v => T + (t1 - v) / (t1 - t0) * PH;
  for (const [v, label] of AR.ticks(l0, l1, 4)) svg.append(sv('text', { x: L - 4, y: pl(v) + 3, 'text-anchor': 'end', 'font-size': 9, fill: '#2471a3' }, label));
  for (const [v, label] of AR.ticks(t0, t1, 4)) svg.append(sv('text', { x: L + PW + 4, y: pt(v) + 3, 'font-size': 9, fill: '#d35400' }, label));
  for (const [v, label] of AR.ticks(s0, s1, 5, true)) svg.append(sv('text', { x: px(v), y: H - 12, 'text-anchor': 'middle', 'font-size': 9 }, label));
  svg.append(sv('text', { x: L + PW / 2, y: H - 1, 'text-anchor': 'middle', 'font-size': 9 }, 'step · loss (blue) · tokens/s (orange)'));
  svg.append(sv('path', { class: 'loss', d: curve.map((p, i) => (i ? 'L ' : 'M ') + px(p[0]) + ' ' + pl(p[1])).join(' '), fill: 'none', stroke: '#2471a3', 'stroke-width': 1.5 }));
  const withTps = curve.filter(p => p[2] != null);
  if (withTps.length) svg.append(sv('path', { class: 'tps', d: withTps.map((p, i) => (i ? 'L ' : 'M ') + px(p[0]) + ' ' + pt(p[2])).join(' '), fill: 'none', stroke: '#d35400', 'stroke-width': 1, 'stroke-dasharray': '3 2' }));
  const last = curve[curve.length - 1];
  svg.append(sv('title', null, 'step ' + last[0] + ': loss ' + num(last[1], 4) + (last[2] != null ? ', ' + Math.round(last[2]) + ' tok/s' : '')));
  return svg;
};
