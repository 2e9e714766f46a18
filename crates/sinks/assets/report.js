/* oddhunt report: renders the findings and run records embedded in this page.
 *
 * Safety: every value shown comes from logs an attacker can write into. Nothing here builds
 * HTML from data: elements are created with the DOM API and filled with textContent, and chart
 * tooltips use ECharts' rich-text mode (drawn on the canvas, never parsed as HTML). The page's
 * Content-Security-Policy allows only this script and the embedded charting library by hash, and
 * no network at all.
 */
(function () {
  'use strict';

  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || e));
    document.body.setAttribute('data-errors', String(errors.length));
  });
  // A blocked script or connection means something tried what this page must never do.
  var violations = 0;
  document.addEventListener('securitypolicyviolation', function () {
    violations += 1;
    document.body.setAttribute('data-csp-violations', String(violations));
  });

  var data = JSON.parse(document.getElementById('oddhunt-data').textContent);
  var app = document.getElementById('app');
  var SEVERITIES = ['low', 'medium', 'high', 'critical'];
  var PAGE = 100;

  // ---- DOM helpers -------------------------------------------------------------------------
  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' || typeof child === 'number'
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  }
  function text(tag, className, value) { return el(tag, className, [value === null || value === undefined ? '' : String(value)]); }
  function fmt(v) {
    if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '—';
    if (typeof v !== 'number') return String(v);
    var a = Math.abs(v);
    if (v !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return (Math.round(v * 10000) / 10000).toString();
  }
  function count(n) { return (n || 0).toLocaleString('en-US'); }
  function stat(value, key) { return el('div', 'stat', [text('div', 'v', value), text('div', 'k', key)]); }
  // Rich-text tooltips give `{style|text}` a meaning; keep attacker text literal.
  function plain(s) { return String(s === null || s === undefined ? '' : s).replace(/[{}|]/g, function (c) { return { '{': '｛', '}': '｝', '|': '¦' }[c]; }); }
  function short(s, n) { s = String(s === null || s === undefined ? '' : s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  // ---- header ------------------------------------------------------------------------------
  document.getElementById('title').textContent = data.title;
  document.getElementById('meta').textContent = 'generated ' + data.generated + ' by oddhunt ' + data.version +
    ' · ' + count(data.findings.length) + ' findings · ' + data.runs.length + ' detector run' + (data.runs.length === 1 ? '' : 's');

  function anchor(name) { return 'detector-' + String(name).replace(/[^A-Za-z0-9_-]/g, '_'); }
  function link(href, label) { var a = text('a', null, label); a.setAttribute('href', href); return a; }

  function eventCount(inp) { var n = 0; Object.keys(inp.events_by_kind || {}).forEach(function (k) { n += inp.events_by_kind[k]; }); return n; }

  // One line per detector run: what was read, scored and reported, linking to its section.
  function overview() {
    var table = el('table', 'overview', []);
    var head = el('tr', null, []);
    ['detector', 'events', 'scored', 'past the threshold', 'findings', 'threshold'].forEach(function (h) { head.appendChild(text('th', null, h)); });
    table.appendChild(el('thead', null, [head]));
    var body = el('tbody', null, []);
    data.runs.forEach(function (run) {
      var inp = run.inputs || {};
      var events = eventCount(inp);
      var th = run.threshold || {};
      body.appendChild(el('tr', null, [
        el('td', null, [link('#' + anchor(run.detector), run.detector)]),
        text('td', 'num', count(events)),
        text('td', 'num', count(run.scored) + ' ' + run.subject + 's'),
        text('td', 'num', count(run.alerts)),
        text('td', 'num', count(run.reported)),
        text('td', 'muted', th.rule + ' (' + th.basis + ')'),
      ]));
    });
    table.appendChild(body);
    return table;
  }

  function runDetails(run) {
    var box = el('div', null, []);
    var inp = run.inputs || {};
    var events = eventCount(inp);
    box.appendChild(el('div', 'grid', [
      stat(count(inp.records), 'records read'),
      stat(count(events), 'events'),
      stat(count(run.scored), run.subject + 's scored'),
      stat(count(run.alerts), 'past the threshold'),
      stat(count(run.reported), 'findings reported'),
    ]));
    var kv = el('div', 'kv', []);
    function row(k, v) { kv.appendChild(text('div', 'k', k)); kv.appendChild(text('div', 'v', v)); }
    row('inputs', (inp.sources || []).join('\n'));
    if (inp.first_seen) row('time range', inp.first_seen + ' … ' + inp.last_seen);
    row('events by kind', Object.keys(inp.events_by_kind || {}).map(function (k) { return k + ' ' + count(inp.events_by_kind[k]); }).join(', ') || 'none');
    var th = run.threshold || {};
    row('threshold', th.rule + ' on the ' + th.basis + ' basis: ' + th.derivation);
    if (run.excluded && run.excluded.length) row('exclusions', run.excluded.map(function (e) { return e[0] + ': ' + e[1]; }).join('\n'));
    if (run.model) {
      var m = run.model;
      row('model', (m.path || 'trained in this run') + ' — oddhunt ' + m.oddhunt_version + ', ' + count(m.events) + ' training events, ' +
        count(m.subjects) + ' subjects' + (m.first_seen ? ', ' + m.first_seen + ' … ' + m.last_seen : ''));
      row('settings', JSON.stringify(m.settings));
    }
    box.appendChild(kv);
    if (inp.skipped && inp.skipped.length) {
      var total = 0; inp.skipped.forEach(function (k) { total += k.count; });
      box.appendChild(text('div', 'muted', count(total) + ' records skipped:'));
      var ul = el('ul', 'skips', []);
      inp.skipped.forEach(function (k) {
        ul.appendChild(el('li', null, [count(k.count) + ' × ' + k.reason + (k.error ? ' (malformed)' : ''),
          k.examples && k.examples.length ? el('div', 'muted', [short(k.examples[0], 300)]) : null]));
      });
      box.appendChild(ul);
    }
    return box;
  }

  // ---- run summary -------------------------------------------------------------------------
  // Several runs: an overview table, then each run's details folded (inputs, time range,
  // skipped records, model, settings). One run: its details open.
  function summary() {
    var s = el('section', null, [text('h2', null, 'Run summary')]);
    if (!data.runs.length) { s.appendChild(text('p', 'muted', 'No run records in the input: only the findings are shown.')); return s; }
    if (data.runs.length > 1) s.appendChild(overview());
    data.runs.forEach(function (run) {
      var title = run.detector + ' — ' + run.description;
      if (data.runs.length === 1) {
        s.appendChild(text('h3', null, title));
        s.appendChild(runDetails(run));
      } else {
        var d = el('details', 'run', [text('summary', null, title + ': inputs, model, settings')]);
        d.appendChild(runDetails(run));
        s.appendChild(d);
      }
    });
    return s;
  }

  // ---- charts ------------------------------------------------------------------------------
  var charts = [];
  function chartBox() { var d = el('div', 'chart', []); return d; }
  function draw(box, option) {
    if (typeof echarts === 'undefined') { box.textContent = 'charting library unavailable'; return; }
    var chart = echarts.init(box, null, { renderer: 'canvas' });
    option.animation = false;
    option.tooltip = Object.assign({ renderMode: 'richText', confine: true }, option.tooltip || {});
    chart.setOption(option);
    charts.push(chart);
  }
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  function histogram(run) {
    var h = run.histogram || { edges: [], counts: [] };
    var box = chartBox();
    var centers = h.counts.map(function (_, i) { return (h.edges[i] + h.edges[i + 1]) / 2; });
    var cut = run.threshold && run.threshold.value;
    draw(box, {
      title: { text: 'Score distribution', textStyle: { fontSize: 13 } },
      grid: { left: 50, right: 20, top: 40, bottom: 40 },
      xAxis: { type: 'value', name: 'score', nameLocation: 'middle', nameGap: 25, scale: true },
      yAxis: { type: 'log', name: run.subject + 's', min: 0.8 },
      tooltip: { trigger: 'item', formatter: function (p) { return 'score ≈ ' + fmt(p.value[0]) + '\n' + count(p.value[1]) + ' ' + plain(run.subject) + 's'; } },
      series: [{
        type: 'bar', barWidth: '90%', itemStyle: { color: '#2f5d8a' },
        data: centers.map(function (c, i) { return [c, Math.max(h.counts[i], 0.0001)]; }),
        markLine: (cut === null || cut === undefined) ? undefined : {
          symbol: 'none', silent: true, lineStyle: { color: '#c2410c', type: 'dashed', width: 2 },
          label: { formatter: 'threshold ' + fmt(cut) }, data: [{ xAxis: cut }],
        },
      }],
    });
    return box;
  }

  function pointsWith(run, test) { return (run.points || []).filter(test); }

  function scatter(run) {
    var pts = pointsWith(run, function (p) { return p.plot && typeof p.plot.x === 'number' && typeof p.plot.y === 'number'; });
    if (!pts.length) return null;
    var clusters = {};
    pts.forEach(function (p) { var c = p.plot.cluster === undefined ? 'all' : String(p.plot.cluster); (clusters[c] = clusters[c] || []).push(p); });
    var box = chartBox();
    var first = pts[0].plot;
    draw(box, {
      title: { text: 'Feature space', textStyle: { fontSize: 13 } },
      legend: { top: 22, type: 'scroll' },
      grid: { left: 55, right: 20, top: 60, bottom: 45 },
      xAxis: { type: 'value', name: first.x_label || 'x', nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: first.y_label || 'y', scale: true },
      tooltip: { trigger: 'item', formatter: function (p) { var d = p.data.point; return plain(short(d.subject, 120)) + '\nscore ' + fmt(d.score) + (d.alert ? ' (finding)' : '') + (d.plot.cluster !== undefined ? '\ncluster ' + plain(d.plot.cluster) : ''); } },
      series: Object.keys(clusters).map(function (c) {
        return {
          name: c === 'all' ? run.subject + 's' : 'cluster ' + c, type: 'scatter',
          data: clusters[c].map(function (p) { return { value: [p.plot.x, p.plot.y], point: p, symbol: p.alert ? 'diamond' : 'circle', symbolSize: p.alert ? 12 : 6, itemStyle: p.alert ? { borderColor: '#9f1239', borderWidth: 2 } : undefined }; }),
        };
      }),
    });
    return box;
  }

  function timeline(run) {
    var pts = pointsWith(run, function (p) { return p.time; });
    if (!pts.length) return null;
    var likelihood = run.detector === 'sequence';
    var box = chartBox();
    var series = [false, true].map(function (alert) {
      return {
        name: alert ? 'findings' : 'others', type: 'scatter', symbolSize: alert ? 10 : 5,
        itemStyle: { color: alert ? '#c2410c' : '#7f96ab' },
        data: pts.filter(function (p) { return p.alert === alert && (!likelihood || p.measure > 0); })
          .map(function (p) { return { value: [p.time, likelihood ? p.measure : p.score], point: p }; }),
      };
    });
    draw(box, {
      title: { text: likelihood ? 'Sessions over time (rarest-window likelihood)' : 'Scores over time', textStyle: { fontSize: 13 } },
      legend: { top: 22 },
      grid: { left: 60, right: 20, top: 60, bottom: 45 },
      xAxis: { type: 'time' },
      yAxis: likelihood ? { type: 'log', name: 'likelihood' } : { type: 'value', name: 'score', scale: true },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }],
      tooltip: { trigger: 'item', formatter: function (p) { var d = p.data.point; return plain(short(d.subject, 160)) + '\n' + plain(d.time) + '\n' + (likelihood ? 'likelihood ' + fmt(d.measure) : 'score ' + fmt(d.score)); } },
      series: series,
    });
    return box;
  }

  function heatmap(run) {
    var pts = pointsWith(run, function (p) { return p.plot && p.plot.entity !== undefined && p.plot.window !== undefined; });
    if (!pts.length) return null;
    var entities = [], windows = [], seenE = {}, seenW = {};
    pts.forEach(function (p) {
      if (!seenE[p.plot.entity]) { seenE[p.plot.entity] = true; entities.push(p.plot.entity); }
      if (!seenW[p.plot.window]) { seenW[p.plot.window] = true; windows.push(p.plot.window); }
    });
    windows.sort(); entities.sort();
    var ei = {}, wi = {}; entities.forEach(function (e, i) { ei[e] = i; }); windows.forEach(function (w, i) { wi[w] = i; });
    var max = 0; pts.forEach(function (p) { if (p.score > max) max = p.score; });
    var box = chartBox(); box.style.height = Math.min(600, 120 + entities.length * 16) + 'px';
    draw(box, {
      title: { text: 'Process-count windows (score)', textStyle: { fontSize: 13 } },
      grid: { left: 140, right: 70, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: windows.map(function (w) { return short(w, 16); }) },
      yAxis: { type: 'category', data: entities.map(function (e) { return short(e, 22); }) },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: 'vertical', right: 0, top: 'middle', inRange: { color: ['#eef2f7', '#f59e0b', '#9f1239'] } },
      tooltip: { trigger: 'item', formatter: function (p) { var d = p.data.point; return plain(short(d.subject, 160)) + '\nscore ' + fmt(d.score); } },
      series: [{ type: 'heatmap', data: pts.map(function (p) { return { value: [wi[p.plot.window], ei[p.plot.entity], p.score], point: p }; }) }],
    });
    return box;
  }

  // ---- explanations ------------------------------------------------------------------------
  function highlighted(source, spans) {
    var box = el('div', 'code', []);
    var pos = 0;
    (spans || []).slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (s) {
      var start = Math.max(s[0], pos), end = Math.min(s[1], source.length);
      if (start >= end) return;
      box.appendChild(document.createTextNode(source.slice(pos, start)));
      box.appendChild(text('mark', null, source.slice(start, end)));
      pos = end;
    });
    box.appendChild(document.createTextNode(source.slice(pos)));
    return box;
  }

  function commandChips(commands, from, len) {
    var box = el('div', null, []);
    (commands || []).forEach(function (c, i) {
      var label = typeof c === 'string' ? c : (c.name + (c.params && c.params.length ? ' ' + c.params.map(function (p) { return Array.isArray(p) ? p[0] + (p[1] !== null && p[1] !== undefined ? '=' + p[1] : '') : p; }).join(' ') : ''));
      var chip = text('span', 'chip' + (i >= from && i < from + len ? ' window' : ''), short(label, 200));
      box.appendChild(chip);
    });
    return box;
  }

  function value(v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'object') { var s = JSON.stringify(v); return short(s, 2000); }
    return typeof v === 'number' ? fmt(v) : String(v);
  }

  function explain(f) {
    var e = f['oddhunt.explanation'] || {};
    var box = el('div', null, []);
    box.appendChild(text('div', null, f['oddhunt.summary']));
    var shown = { plot: true };
    if (e.highlight && typeof e.highlight.text === 'string') {
      box.appendChild(text('h3', null, 'What reconstructs worst'));
      box.appendChild(highlighted(e.highlight.text, e.highlight.spans));
      shown.highlight = true;
    }
    if (Array.isArray(e.commands)) {
      box.appendChild(text('h3', null, 'Session (rarest window outlined)'));
      var idx = typeof e.rarest_window_index === 'number' ? e.rarest_window_index : -1;
      var len = Array.isArray(e.rarest_window) ? e.rarest_window.length : 0;
      box.appendChild(commandChips(e.commands, idx, len));
      shown.commands = true;
    }
    var kv = el('div', 'kv', []);
    Object.keys(e).forEach(function (k) {
      if (shown[k]) return;
      kv.appendChild(text('div', 'k', k.replace(/_/g, ' ')));
      kv.appendChild(text('div', 'v', value(e[k])));
    });
    box.appendChild(text('h3', null, 'Explanation'));
    box.appendChild(kv);
    var ctx = el('div', 'kv', []);
    Object.keys(f).forEach(function (k) {
      if (k.indexOf('oddhunt.') === 0 || k.indexOf('event.') === 0 || k === '@timestamp') return;
      ctx.appendChild(text('div', 'k', k));
      ctx.appendChild(text('div', 'v', value(f[k])));
    });
    box.appendChild(text('h3', null, 'Context'));
    box.appendChild(ctx);
    var prov = f['oddhunt.provenance'] || [];
    box.appendChild(text('h3', null, 'Raw records'));
    var ul = el('ul', null, []);
    prov.forEach(function (p) {
      var where = p.source + (p.locator.line !== undefined ? ':' + p.locator.line : ' record ' + p.locator.record);
      var li = el('li', null, []);
      // A link to the log file itself (file://), the record's position next to it.
      if (p.source && p.source !== '-' && /^[\/A-Za-z]/.test(p.source)) {
        var a = text('a', null, where);
        a.href = 'file://' + (p.source.charAt(0) === '/' ? '' : '/') + encodeURI(p.source.replace(/\\/g, '/'));
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(where));
      }
      ul.appendChild(li);
    });
    if (!prov.length) ul.appendChild(text('li', 'muted', 'none recorded'));
    box.appendChild(ul);
    box.appendChild(text('div', 'muted', 'finding ' + f['oddhunt.id'] + ' · score ' + fmt(f['oddhunt.score']) + ' · threshold ' + fmt(f['oddhunt.threshold']) +
      ' · ' + (f['oddhunt.measure'] ? f['oddhunt.measure'].name + ' ' + fmt(f['oddhunt.measure'].value) : '')));
    return box;
  }

  // ---- findings table ----------------------------------------------------------------------
  var COLUMNS = [
    { key: 'severity', label: 'severity', get: function (f) { return SEVERITIES.indexOf(f['oddhunt.severity']); } },
    { key: 'score', label: 'score', get: function (f) { var s = f['oddhunt.score']; return s === null ? -Infinity : s; } },
    { key: 'subject', label: 'subject', get: function (f) { return f['oddhunt.subject'] || ''; } },
    { key: 'who', label: 'host / user / source', get: who },
    { key: 'summary', label: 'why', get: function (f) { return f['oddhunt.summary'] || ''; } },
    { key: 'time', label: 'first seen', get: function (f) { return f['oddhunt.first_seen'] || ''; } },
  ];
  function who(f) { return [f['host.name'], f['user.name'], f['source.ip']].filter(Boolean).join(' / '); }

  // `report.html#finding=<id>` opens that finding (links from a SIEM or a ticket).
  var wanted = (/^#finding=([0-9a-f]{16})$/.exec(location.hash) || [])[1];

  function findingsTable(rows, title) {
    var state = { q: '', sev: 0, excluded: false, sort: 'score', asc: false, page: 0, open: {} };
    if (wanted && rows.some(function (f) { return f['oddhunt.id'] === wanted; })) { state.q = wanted; state.open[wanted] = true; state.excluded = true; }
    var box = el('div', null, [text('h3', null, title)]);
    var search = el('input', null, []); search.type = 'search'; search.placeholder = 'filter: subject, summary, host, user, any field…';
    var sev = el('select', null, SEVERITIES.map(function (s, i) { var o = text('option', null, i === 0 ? 'all severities' : s + ' and above'); o.value = String(i); return o; }));
    var excl = el('input', null, []); excl.type = 'checkbox';
    var hasExcluded = rows.some(function (f) { return f['oddhunt.excluded_by']; });
    var controls = el('div', 'controls', [search, sev, hasExcluded ? el('label', null, [excl, ' show excluded']) : null]);
    var table = el('table', 'findings', []);
    var head = el('tr', null, []);
    COLUMNS.forEach(function (c) {
      var th = text('th', null, c.label);
      th.addEventListener('click', function () { if (state.sort === c.key) state.asc = !state.asc; else { state.sort = c.key; state.asc = c.key === 'subject' || c.key === 'time'; } state.page = 0; update(); });
      c.th = th; head.appendChild(th);
    });
    var thead = el('thead', null, [head]), tbody = el('tbody', null, []);
    table.appendChild(thead); table.appendChild(tbody);
    var pager = el('div', 'pager', []);
    box.appendChild(controls); box.appendChild(table); box.appendChild(pager);
    search.value = state.q;
    search.addEventListener('input', function () { state.q = search.value.toLowerCase(); state.page = 0; update(); });
    sev.addEventListener('change', function () { state.sev = Number(sev.value); state.page = 0; update(); });
    excl.addEventListener('change', function () { state.excluded = excl.checked; state.page = 0; update(); });
    function matches(f) {
      if (!state.excluded && f['oddhunt.excluded_by']) return false;
      if (SEVERITIES.indexOf(f['oddhunt.severity']) < state.sev) return false;
      if (!state.q) return true;
      if (!f._haystack) f._haystack = JSON.stringify(f).toLowerCase();
      return f._haystack.indexOf(state.q) >= 0;
    }
    function update() {
      var col = COLUMNS.filter(function (c) { return c.key === state.sort; })[0];
      COLUMNS.forEach(function (c) { c.th.className = c === col ? 'sorted' + (state.asc ? ' asc' : '') : ''; });
      var list = rows.filter(matches);
      list.sort(function (a, b) { var x = col.get(a), y = col.get(b); var r = x < y ? -1 : x > y ? 1 : 0; return state.asc ? r : -r; });
      var pages = Math.max(1, Math.ceil(list.length / PAGE));
      state.page = Math.min(state.page, pages - 1);
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      list.slice(state.page * PAGE, state.page * PAGE + PAGE).forEach(function (f) {
        var tr = el('tr', 'finding' + (f['oddhunt.excluded_by'] ? ' excluded' : ''), [
          el('td', null, [text('span', 'sev ' + f['oddhunt.severity'], f['oddhunt.severity'])]),
          text('td', 'num', fmt(f['oddhunt.score'])),
          text('td', 'subject', short(f['oddhunt.subject'], 160)),
          text('td', null, short(who(f), 80)),
          text('td', 'summary', (f['oddhunt.excluded_by'] ? '[excluded by ' + f['oddhunt.excluded_by'] + '] ' : '') + short(f['oddhunt.summary'], 400)),
          text('td', 'num', f['oddhunt.first_seen'] || ''),
        ]);
        tr.setAttribute('data-id', f['oddhunt.id']);
        tbody.appendChild(tr);
        var detail = null;
        function openDetail() {
          detail = el('tr', 'detail', [el('td', null, [explain(f)])]);
          detail.firstChild.colSpan = COLUMNS.length;
          tr.parentNode.insertBefore(detail, tr.nextSibling);
        }
        tr.addEventListener('click', function () {
          if (detail) { detail.parentNode.removeChild(detail); detail = null; delete state.open[f['oddhunt.id']]; }
          else { openDetail(); state.open[f['oddhunt.id']] = true; }
        });
        if (state.open[f['oddhunt.id']]) { openDetail(); if (f['oddhunt.id'] === wanted) tr.scrollIntoView(); }
      });
      while (pager.firstChild) pager.removeChild(pager.firstChild);
      var prev = text('button', null, '‹ previous'), next = text('button', null, 'next ›');
      prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
      prev.addEventListener('click', function () { state.page--; update(); });
      next.addEventListener('click', function () { state.page++; update(); });
      pager.appendChild(prev);
      pager.appendChild(text('span', 'muted', 'page ' + (state.page + 1) + ' of ' + pages + ' · ' + count(list.length) + ' of ' + count(rows.length) + ' findings'));
      pager.appendChild(next);
    }
    update();
    return box;
  }

  // ---- per detector ------------------------------------------------------------------------
  function detectorSection(name, run, rows) {
    var s = el('section', null, [text('h2', null, name + (run ? ' — ' + run.description : ''))]);
    s.setAttribute('data-detector', name);
    s.setAttribute('id', anchor(name));
    if (run) {
      var charts = el('div', 'charts', []);
      charts.appendChild(histogram(run));
      [timeline(run), scatter(run), heatmap(run)].forEach(function (c) { if (c) charts.appendChild(c); });
      s.appendChild(charts);
    }
    s.appendChild(findingsTable(rows, count(rows.length) + ' findings'));
    return s;
  }

  app.appendChild(summary());
  var byDetector = {};
  data.findings.forEach(function (f) { (byDetector[f['oddhunt.detector']] = byDetector[f['oddhunt.detector']] || []).push(f); });
  var names = data.runs.map(function (r) { return r.detector; });
  Object.keys(byDetector).forEach(function (d) { if (names.indexOf(d) < 0) names.push(d); });
  names.forEach(function (name) {
    var run = data.runs.filter(function (r) { return r.detector === name; })[0];
    app.appendChild(detectorSection(name, run, byDetector[name] || []));
  });
  // The sections exist only now: honour a `#detector-NAME` link.
  var section = /^#(detector-[A-Za-z0-9_-]+)$/.exec(location.hash);
  if (section && document.getElementById(section[1])) document.getElementById(section[1]).scrollIntoView();
  document.body.setAttribute('data-rendered', 'true');
})();
