// hermes gateway dashboard. Server text reaches the page only through textContent, and every
// handler is guarded: the browser test fails on any console error.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const KEY = 'hermes.key';
  const DAY = 86400;
  const S = {needKey: false, ov: null, lastOk: 0, sessions: [], q: '', openId: '', openSeq: 0, focus: null};
  const errors = {};          // loop name -> {m: message, s: HTTP status (0 = unreachable)}
  const pending = new Set();  // actions whose POST is in flight: 'run:7', 'job:j_1:pause', 'clear'
  let memKey = '';            // only when sessionStorage is unavailable
  let noticeTimer = 0;
  let searchTimer = 0;

  // ---- formatting
  const num = (v) => (Number(v) || 0).toLocaleString('en-US');
  const plural = (n, one, many) => `${num(n)} ${Number(n) === 1 ? one : many}`;
  const pct = (p) => (Number(p) || 0).toLocaleString('en-US', {maximumFractionDigits: 1}) + '%';
  const compact = new Intl.NumberFormat('en-US', {notation: 'compact'});
  const now = () => Date.now() / 1000;
  const short = (id) => { id = String(id || ''); return id.length > 10 ? id.slice(0, 8) + '…' : id || '—'; };
  const clock = (t) => new Date(t * 1000).toLocaleTimeString();
  const utcDay = (t) => new Date(t * 1000).toISOString().slice(0, 10);
  const arr = (v) => (Array.isArray(v) ? v : []);

  function usd(v) {
    v = Number(v) || 0;
    const d = Math.abs(v) < 1 ? 4 : 2;
    return (v < 0 ? '-$' : '$') + Math.abs(v).toLocaleString('en-US', {minimumFractionDigits: d, maximumFractionDigits: d});
  }

  // The two largest units: "55 s", "4 min 10 s", "3 h 12 min", "2 d 5 h".
  function dur(s) {
    s = Math.max(0, Math.floor(Number(s) || 0));
    const h = Math.floor(s % DAY / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (s < 60) return `${s} s`;
    if (s < 3600) return sec ? `${m} min ${sec} s` : `${m} min`;
    return s < DAY ? `${h} h ${m} min` : `${Math.floor(s / DAY)} d ${h} h`;
  }
  const ago = (t) => (t ? `${dur(now() - t)} ago` : 'never');

  // Today: the time alone; otherwise date and time. Always the browser's zone.
  function when(t) {
    if (!t) return '—';
    const d = new Date(t * 1000);
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  // ---- DOM
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }
  const td = (text, cls) => el('td', {class: cls}, text);
  const rowHead = (text) => el('th', {scope: 'row'}, text || '—');
  const stateCell = (w) => el('td', {class: 'st'}, el('span', {class: 'dot', 'data-s': w || '', 'aria-hidden': 'true'}), w || 'unknown');
  const button = (cls, label, busy) => el('button', {type: 'button', class: cls, disabled: busy}, label);
  const rowKey = (tr) => (tr ? JSON.stringify({...tr.dataset}) : '');

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  function say(text) {
    $('notice').textContent = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { $('notice').textContent = ''; }, 10000);
  }

  function tell(e) {
    try { say('Something went wrong on this page: ' + ((e && e.message) || e)); } catch (e2) { /* give up quietly */ }
  }
  // An answer the gateway refused or could not give (it has a status) is said on the page; a
  // bug in this page is said there too and still reaches the console, where tests see it.
  function oops(e) {
    tell(e);
    if (!(e && typeof e.status === 'number')) setTimeout(() => { throw e; });
  }
  function guard(fn) {
    try {
      const p = fn();
      if (p && typeof p.catch === 'function') p.catch(oops);
    } catch (e) { oops(e); }
  }

  // Replace a tbody's rows only when they changed (a 2 s refresh must not disturb screen
  // readers), and give focus back to the same row's button.
  function fill(id, rows, empty) {
    const tb = $(id);
    if (!rows.length) {
      const cols = tb.parentNode.tHead.rows[0].cells.length;
      rows = [el('tr', {class: 'empty'}, el('td', {colspan: cols}, empty))];
    }
    const sig = rows.map((r) => r.outerHTML).join('');
    if (tb.sig === sig) return;
    tb.sig = sig;
    const a = document.activeElement;
    let f = null;
    if (a && a !== document.body && tb.contains(a)) f = {key: rowKey(a.closest('tr')), cls: a.classList[0] || ''};
    else if (S.focus && S.focus.tb === id && (!a || a === document.body)) f = S.focus;
    tb.replaceChildren(...rows);
    const tr = f && rows.find((r) => rowKey(r) === f.key);
    if (!tr) return;
    const b = (f.cls && tr.querySelector('button.' + f.cls)) || [...tr.querySelectorAll('button')].pop();
    if (b && !b.disabled) b.focus();
  }

  // ---- the gateway
  function getKey() {
    try { return sessionStorage.getItem(KEY) || memKey; } catch (e) { return memKey; }
  }

  function failure(m, status) {
    return Object.assign(new Error(m), {status});
  }

  async function api(path, method) {
    const key = getKey();
    const headers = {Accept: 'application/json'};
    if (key) headers.Authorization = 'Bearer ' + key;
    let res;
    try {
      res = await fetch(path, {method: method || 'GET', headers, cache: 'no-store', credentials: 'omit'});
    } catch (e) {
      throw failure('Could not reach the gateway: ' + ((e && e.message) || 'network error'), 0);
    }
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON: the status says enough */ }
    if (res.status === 401) {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* memKey below */ }
      memKey = '';  // a refused key is not kept
      askKey(Boolean(key));
      throw failure('The gateway wants a key.', 401);
    }
    if (!res.ok) {
      throw failure((body && body.error && body.error.message) || `The gateway answered HTTP ${res.status}.`, res.status);
    }
    return body || {};
  }

  function askKey(tried) {
    S.needKey = true;
    $('content').hidden = true;
    const form = $('key-form');
    const focus = form.hidden || tried;
    form.hidden = false;
    $('key-error').hidden = !tried;
    $('key-error').textContent = tried ? 'That key was refused. Check it and try again.' : '';
    if (focus) $('key-input').focus();
  }

  function submitKey(ev) {
    ev.preventDefault();  // CSP form-action 'none': a real submit would log an error
    const v = $('key-input').value.trim();
    if (!v) {
      $('key-error').hidden = false;
      $('key-error').textContent = 'Enter the key first.';
      return;
    }
    try { sessionStorage.setItem(KEY, v); } catch (e) { memKey = v; }
    $('key-input').value = '';
    $('key-error').hidden = true;
    S.needKey = false;
    setText('updated', 'Checking the key…');
    run('overview', true);
  }

  // ---- refresh: setTimeout chains, never two requests of one kind at once
  const loops = {
    overview: {every: 2000, fn: loadOverview},
    spend: {every: 6000, fn: loadSpend},
    sessions: {every: 10000, fn: loadSessions},
  };

  async function run(name, force) {
    const l = loops[name];
    clearTimeout(l.timer);
    if (l.busy) {  // once more when the current request is done
      l.again = true;
      l.force = l.force || force;
      return;
    }
    if (document.hidden || S.needKey) return;
    l.busy = true;
    try {
      await l.fn(force);
      delete errors[name];
      // The gateway answered, so "could not reach" from the other loops is stale.
      for (const k in errors) if (errors[k].s === 0) delete errors[k];
    } catch (e) {
      if (e && e.status === 401) delete errors[name];
      else errors[name] = {m: (e && e.message) || String(e), s: e && e.status};
    }
    l.busy = false;
    try { showUpdated(); } catch (e) { oops(e); }
    if (l.again) {
      const f = l.force;
      l.again = l.force = false;
      run(name, f);
    } else if (!document.hidden && !S.needKey) {
      l.timer = setTimeout(run, l.every, name, false);
    }
  }

  function showUpdated() {
    const e = errors.overview || errors.spend || errors.sessions;
    $('updated').classList.toggle('problem', Boolean(e));
    if (e) setText('updated', e.m);
    else if (S.needKey) setText('updated', 'Waiting for the key.');
    else if (S.lastOk) setText('updated', 'Updated ' + new Date(S.lastOk).toLocaleTimeString());
  }

  async function loadOverview() {
    const d = await api('/ui/api/overview');
    if (S.needKey) return;  // another request was refused meanwhile
    S.ov = d;
    S.lastOk = Date.now();
    if ($('content').hidden) {  // the first success (or the first after a key): start the rest
      $('key-form').hidden = true;
      $('content').hidden = false;
      run('spend', true);
      run('sessions', true);
    }
    renderOverview();
  }

  async function loadSpend() {
    renderSpend(await api('/ui/api/spend?days=30'));
  }

  async function loadSessions(force) {
    const q = $('session-search').value.trim();
    if (q && !force) return;  // search results stay until the search changes
    const d = await api('/ui/api/sessions?' + (q ? 'q=' + encodeURIComponent(q) + '&' : '') + 'limit=50');
    S.sessions = arr(d.sessions);
    S.q = q;
    renderSessions();
  }

  // ---- overview
  function renderOverview() {
    const d = S.ov || {};
    renderGateway(d.gateway || {});

    fill('platforms', arr(d.platforms).map((p) => el('tr', {'data-platform': p.name},
      rowHead(p.name), stateCell(p.state), td(p.detail || '—'), td(ago(p.last_event_at)),
      td(ago(p.last_delivery_at)), td(num(p.abandoned), 'num'))), 'No platforms configured.');

    fill('tools', arr(d.tools).map((t) => el('tr', {'data-tool': t.name},
      rowHead(t.name), td({mcp: 'MCP server', builtin: 'built-in'}[t.kind] || t.kind || '—'),
      stateCell(t.state), td(plural(t.tools, 'tool', 'tools'), 'num'), td(t.last_error || '—'))), 'No tools.');

    fill('runs', arr(d.runs).map((r) => el('tr', {'data-run-id': r.id},
      el('td', {title: r.session_id || null}, el('code', null, short(r.session_id))), td(r.platform || '—'),
      td(r.started_at ? clock(r.started_at) : '—'), td(r.started_at ? dur(now() - r.started_at) : '—'),
      td(r.step || '—'), el('td', null, button('stop', 'Stop', pending.has('run:' + r.id))))), 'No runs right now.');

    const cds = arr(d.cooldowns);
    fill('cooldowns', cds.map((c) => el('tr', {'data-provider': c.provider},
      rowHead(c.provider), td('key ' + ((Number(c.key_index) || 0) + 1)), td(c.reason || '—'),
      td(dur(c.seconds_left), 'num'))), 'No cooldowns.');
    $('clear-cooldowns').disabled = !cds.length || pending.has('clear');

    fill('budgets', arr(d.budgets).map((b) => {
      const p = Number(b.percent) || 0;
      return el('tr', {'data-budget': b.name}, rowHead(b.name), td(`${usd(b.spent_usd)} of ${usd(b.limit_usd)}`),
        el('td', {class: p >= 100 ? 'num problem' : 'num'},
          el('meter', {min: 0, max: 100, value: Math.min(p, 100), 'aria-hidden': 'true'}), pct(p) + (p >= 100 ? ' (over)' : '')),
        td(when(b.resets_at)));
    }), 'No budgets set.');

    fill('jobs', arr(d.jobs).map((j) => {
      const busy = (verb) => pending.has(`job:${j.id}:${verb}`);
      const on = j.enabled !== false;
      return el('tr', {'data-job-id': j.id}, rowHead(j.name || j.id), td(j.schedule || '—'),
        td(on ? when(j.next_run) : 'paused'),
        j.last_status ? stateCell(j.last_status) : td(j.last_run ? '—' : 'never run'), td(j.deliver || '—'),
        el('td', {class: 'actions'}, button('run', 'Run now', busy('run')), ' ',
          on ? button('pause', 'Pause', busy('pause')) : button('resume', 'Resume', busy('resume'))));
    }), 'No scheduled jobs.');

    fill('failures', arr(d.failures).map((f) => el('tr', null,
      td(when(f.at)), td(f.platform || '—'), td([f.provider, f.model].filter(Boolean).join(' / ') || '—'),
      td(f.reason || '—'), td(f.hint || '—'))), 'Nothing has failed recently.');
  }

  function renderGateway(g) {
    setText('gateway-state', g.state || 'unknown');
    $('gateway-dot').dataset.s = g.state || '';
    setText('gateway-version', g.version || '—');
    setText('gateway-uptime', dur(g.uptime_seconds));
    setText('gateway-restarts', num(g.restarts));
    setText('gateway-sessions', num(g.sessions));
    setText('gateway-pid', g.pid ? String(g.pid) : '—');
    const r = g.reload || {};
    setText('gateway-reload', r.ok === false ? 'failed: ' + (r.error || 'unknown error')
      : r.at ? 'OK at ' + clock(r.at) : 'not reloaded');
    $('gateway-problem').hidden = !g.store_problem;
    setText('gateway-problem', g.store_problem ? 'Session store problem: ' + g.store_problem : '');
  }

  // ---- spend
  function renderSpend(d) {
    const days = arr(d.days);
    const row = (x, name) => el('tr', {'data-day': name === 'day' ? x.day : null}, rowHead(x[name]),
      el('td', {class: 'cost', 'data-usd': String(Number(x.cost_usd) || 0)}, usd(x.cost_usd)),
      td(plural(x.tokens, 'token', 'tokens'), 'num'), td(plural(x.calls, 'call', 'calls'), 'num'));

    // 30 UTC days ending today, 0 where there were no calls, so the line is continuous.
    const byDay = new Map(days.map((x) => [x.day, x]));
    const today = Math.floor(now() / DAY) * DAY;
    const data = [[], [], []];
    for (let t = today - 29 * DAY; t <= today; t += DAY) {
      const x = byDay.get(utcDay(t)) || {};
      data[0].push(t);
      data[1].push(Number(x.cost_usd) || 0);
      data[2].push(Number(x.tokens) || 0);
    }
    drawChart(data);

    const sum = (k) => days.reduce((a, x) => a + (Number(x[k]) || 0), 0);
    setText('spend-total', `Last 30 days: ${usd(sum('cost_usd'))}, ${plural(sum('tokens'), 'token', 'tokens')}, ${plural(sum('calls'), 'call', 'calls')}.`);
    fill('spend-days', days.map((x) => row(x, 'day')), 'No calls in the last 30 days.');
    fill('spend-models', arr(d.by_model).map((x) => row(x, 'name')), 'No calls.');
    fill('spend-providers', arr(d.by_provider).map((x) => row(x, 'name')), 'No calls.');
  }

  const chartWidth = (box) => Math.max(240, Math.floor(box.clientWidth || 0));

  function chartOpts(box) {
    const css = getComputedStyle(document.documentElement);
    const v = (n) => css.getPropertyValue(n).trim();
    const axis = {stroke: v('--muted'), grid: {stroke: v('--grid'), width: 1}, ticks: {stroke: v('--grid'), width: 1}};
    const range = (floor) => (u, min, max) => [0, max > 0 ? max * 1.15 : floor];
    const legend = (f) => (u, x) => (x == null ? '—' : f(x));
    const opts = {
      width: chartWidth(box),
      height: 220,
      scales: {x: {time: true}, usd: {range: range(0.01)}, tok: {range: range(10)}},
      series: [
        {value: legend(utcDay)},
        {label: 'Cost (USD)', scale: 'usd', stroke: v('--c1'), fill: v('--c1-fill'), width: 2, value: legend(usd)},
        {label: 'Tokens', scale: 'tok', stroke: v('--c2'), width: 1.5, dash: [5, 4], value: legend(num)},
      ],
      axes: [
        {...axis},
        {...axis, scale: 'usd', size: 60, values: (u, vals) => vals.map((x) => '$' + Number(x.toPrecision(3)))},
        {...axis, scale: 'tok', side: 1, size: 50, grid: {show: false}, values: (u, vals) => vals.map((x) => compact.format(x))},
      ],
    };
    // The points are UTC midnights: label UTC days, not evenings in the local zone.
    if (typeof uPlot.tzDate === 'function') opts.tzDate = (t) => uPlot.tzDate(new Date(t * 1000), 'Etc/UTC');
    return opts;
  }

  function drawChart(data) {
    const box = $('spend-chart');
    if (typeof uPlot !== 'function') {
      setText('spend-chart', 'The chart could not be loaded; the By day table has the same figures.');
    } else if (box.chart) {
      box.chart.setData(data);
    } else {
      box.chart = new uPlot(chartOpts(box), data, box);
    }
  }

  // Colours are read at creation, so a theme switch builds the chart again.
  function recolourChart() {
    const box = $('spend-chart');
    if (!box.chart) return;
    const data = box.chart.data;
    box.chart.destroy();
    box.chart = new uPlot(chartOpts(box), data, box);
  }

  function fitChart() {
    const box = $('spend-chart');
    const c = box.chart;
    if (!c || !box.clientWidth) return;  // hidden: keep the last size
    const w = chartWidth(box);
    if (Math.abs(w - c.width) > 1) c.setSize({width: w, height: 220});
  }

  // ---- sessions and transcript
  function renderSessions() {
    fill('sessions', S.sessions.map((s) => {
      const open = s.id === S.openId;
      return el('tr', {'data-session-id': s.id, class: open ? 'open' : null},
        el('td', null, el('button', {type: 'button', class: 'open link', 'aria-current': open ? 'true' : null}, s.title || '(no text)')),
        td(s.platform || '—'), td(plural(s.messages, 'message', 'messages'), 'num'), td(when(s.updated_at)));
    }), S.q ? `No sessions match “${S.q}”.` : 'No sessions yet.');
  }

  const head = (id, meta) => el('div', {class: 'thead'},
    el('h3', {tabindex: '-1'}, 'Session ', el('code', {title: id}, short(id))),
    button('close', 'Close'), el('p', {class: 'meta'}, meta));

  async function openSession(id) {
    const seq = ++S.openSeq;
    S.openId = id;
    renderSessions();
    const t = $('transcript');
    t.hidden = false;
    t.replaceChildren(head(id, 'Loading…'));
    let s;
    try {
      s = await api('/ui/api/sessions/' + encodeURIComponent(id));
    } catch (e) {
      if (seq === S.openSeq) t.replaceChildren(head(id, ''), el('p', {class: 'problem'}, 'Could not load this session: ' + e.message));
      return;
    }
    if (seq !== S.openSeq) return;  // another session was opened meanwhile
    const msgs = arr(s.messages);
    const meta = [s.platform, s.created_at && 'started ' + when(s.created_at), plural(msgs.length, 'message', 'messages')];
    t.replaceChildren(head(id, meta.filter(Boolean).join(' · ')), renderMessages(msgs));
    t.querySelector('h3').focus();
  }

  function closeTranscript() {
    const id = S.openId;
    S.openId = '';
    S.openSeq++;
    $('transcript').hidden = true;
    $('transcript').replaceChildren();
    renderSessions();
    const tr = [...$('sessions').rows].find((r) => r.dataset.sessionId === id);
    if (tr) tr.querySelector('button').focus();
  }

  const calls = (m) => arr(m.tool_calls);
  const text = (c) => (typeof c === 'string' ? c : c == null ? '' : JSON.stringify(c, null, 2));
  function pretty(args) {
    try { return JSON.stringify(JSON.parse(args), null, 2); } catch (e) { return text(args); }
  }

  function message(m, names) {
    const role = String(m.role || 'unknown');
    const label = role === 'tool' ? 'Tool result' + (names[m.tool_call_id] ? ': ' + names[m.tool_call_id] : '')
      : role[0].toUpperCase() + role.slice(1);
    const div = el('div', {class: 'msg', 'data-role': role}, el('div', {class: 'role'}, label));
    const body = text(m.content);
    if (body || !calls(m).length) div.append(el('div', {class: 'text'}, body || '(empty)'));
    for (const c of calls(m)) div.append(el('div', null, 'Calls ', el('code', null, c.name || '?')), el('pre', null, pretty(c.arguments)));
    return div;
  }

  // Consecutive tool rounds (an assistant message with tool_calls, then role=tool results)
  // fold into one <details>; so does the system prompt.
  function renderMessages(msgs) {
    const box = el('div', {class: 'msgs'});
    if (!msgs.length) box.append(el('p', null, 'This session has no messages.'));
    const names = {};  // tool_call_id -> tool name, to label the results
    let g = null;
    for (const m of msgs) {
      for (const c of calls(m)) names[c.id] = c.name;
      if (m.role !== 'tool' && !(m.role === 'assistant' && calls(m).length)) {
        g = null;
        const node = message(m, names);
        box.append(m.role === 'system' ? el('details', null, el('summary', null, 'System prompt'), node) : node);
        continue;
      }
      if (!g) {
        g = {rounds: 0, names: [], sum: el('summary'), body: el('div')};
        box.append(el('details', {class: 'tools'}, g.sum, g.body));
      }
      if (calls(m).length) g.rounds++;
      for (const c of calls(m)) if (!g.names.includes(c.name)) g.names.push(c.name);
      g.body.append(message(m, names));
      g.sum.textContent = (g.rounds > 1 ? `Tool rounds (${g.rounds}): ` : 'Tool round: ') + (g.names.join(', ') || 'results');
    }
    return box;
  }

  // ---- actions
  async function act(key, path, btn, busyText, done, failText) {
    pending.add(key);
    const hadFocus = document.activeElement === btn;
    // Disabling drops focus: remember the row so fill() can give it back after a rebuild.
    if (hadFocus && btn.closest('tbody')) S.focus = {tb: btn.closest('tbody').id, key: rowKey(btn.closest('tr')), cls: btn.classList[0]};
    btn.disabled = true;
    say(busyText);
    try {
      say(done(await api(path, 'POST')));
    } catch (e) {
      say(`${failText}: ${e.message}`);
    }
    pending.delete(key);
    btn.disabled = false;  // renderOverview sets the real state of #clear-cooldowns
    if (S.ov && !S.needKey) renderOverview();
    const a = document.activeElement;
    if (hadFocus && btn.isConnected && !btn.disabled && (!a || a === document.body)) btn.focus();
    S.focus = null;
    run('overview', true);
  }

  function onClick(ev) {
    const b = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (!b || b.disabled) return;
    const tr = b.closest('tr');
    const has = (c) => b.classList.contains(c);
    if (b.id === 'clear-cooldowns') {
      return act('clear', '/ui/api/cooldowns/clear', b, 'Clearing cooldowns…', (r) => {
        if (S.ov) S.ov.cooldowns = [];  // all gone; the refresh confirms
        return `Cleared ${plural(r.cleared, 'cooldown', 'cooldowns')}.`;
      }, 'Could not clear cooldowns');
    }
    if (has('close')) return closeTranscript();
    if (!tr) return;
    if (has('open')) return openSession(tr.dataset.sessionId);
    if (has('stop')) {
      const id = tr.dataset.runId;
      return act('run:' + id, `/ui/api/runs/${encodeURIComponent(id)}/stop`, b, `Stopping run ${id}…`,
        (r) => (r.stopped === false ? `Run ${id} did not stop.` : `Run ${id} stopped.`), `Could not stop run ${id}`);
    }
    const verb = ['run', 'pause', 'resume'].find(has);
    const id = tr.dataset.jobId;
    if (!verb || !id) return;
    const name = `“${tr.cells[0].textContent}”`;
    const w = {run: ['Starting', 'started'], pause: ['Pausing', 'paused'], resume: ['Resuming', 'resumed']}[verb];
    return act(`job:${id}:${verb}`, `/ui/api/cron/${encodeURIComponent(id)}/${verb}`, b, `${w[0]} ${name}…`,
      (r) => r.message || `Job ${name} ${w[1]}.`, `Could not ${verb} ${name}`);
  }

  // ---- start
  function init() {
    // A stray error is said on the page as well as in the console.
    window.addEventListener('error', (e) => tell(e.error || e.message));
    window.addEventListener('unhandledrejection', (e) => tell(e.reason));
    $('key-form').addEventListener('submit', (ev) => guard(() => submitKey(ev)));
    $('content').addEventListener('click', (ev) => guard(() => onClick(ev)));
    $('session-search').addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => guard(() => run('sessions', true)), 300);
    });
    document.addEventListener('visibilitychange', () => guard(() => {
      if (document.hidden) return;
      run('overview', true);
      if (!$('content').hidden) {
        run('spend', true);
        run('sessions', false);
      }
    }));
    const mq = window.matchMedia && matchMedia('(prefers-color-scheme: dark)');
    if (mq && mq.addEventListener) mq.addEventListener('change', () => guard(recolourChart));
    // Next frame: resizing inside the callback would cause a ResizeObserver loop error.
    if (window.ResizeObserver) new ResizeObserver(() => requestAnimationFrame(() => guard(fitChart))).observe($('spend-chart'));
    return start();
  }

  // Without a stored key, ask /ui/auth (open to all) whether to show the form: a 401 from
  // /ui/api would show in the console as a failed resource.
  async function start() {
    if (!getKey()) {
      let need = false;
      try {
        const r = await fetch('/ui/auth', {cache: 'no-store', credentials: 'omit'});
        if (r.ok) need = (await r.json()).key_required === true;
      } catch (e) { /* unknown: the overview call tells */ }
      if (need) {
        askKey(false);
        showUpdated();
        return;
      }
    }
    run('overview', true);
  }

  guard(init);
})();
