// Turns one run's raw files (run.sh's temp dir) into results/latest.md and results/latest.json.
//
//   node report.mjs --work DIR --md FILE --json FILE
//
// Per case and target, each number is the median over rounds (errors: the sum over rounds).
// errors = non-2xx + 2xx bodies without the expected end + connect/write/timeout errors + read
// errors beyond those wrk counts for answers delimited by connection close (see chat.lua).
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const work = opt.work;

const readJsonl = (name) => {
  const file = path.join(work, name);
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
};
const readJson = (name) => {
  const file = path.join(work, name);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
};
const readText = (name) => {
  const file = path.join(work, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
};

const meta = readJson('meta.json') || {};
const runs = readJsonl('runs.jsonl');
const startup = readJsonl('startup.jsonl');
const procs = readJsonl('procs.jsonl');
const preflight = readJsonl('preflight.jsonl');
const ttfc = readJson('ttfc.json');
const clk = Number(meta.clk_tck || 100);

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

const CASES = [
  ['c1-plain', 'c=1 (1 thread), plain JSON'],
  ['c1-stream', 'c=1 (1 thread), streamed SSE'],
  ['c32-plain', 'c=32 (2 threads), plain JSON'],
  ['c32-stream', 'c=32 (2 threads), streamed SSE'],
];
// BENCH_BASELINE_BIN: the same two hermes workloads on a second gateway running an older build,
// each shown right after its counterpart.
const BASELINE = '@baseline';
const hasBaseline = meta.hermes_baseline !== undefined || runs.some((r) => r.target.endsWith(BASELINE));
const TARGETS = hasBaseline
  ? ['direct', 'nginx', 'portkey', 'hermes-new', `hermes-new${BASELINE}`, 'hermes-continued', `hermes-continued${BASELINE}`, 'hermes-new-shm']
  : ['direct', 'nginx', 'portkey', 'hermes-new', 'hermes-continued', 'hermes-new-shm'];

function errorsOf(w) {
  if (!w) return null;
  const extraRead = Math.max(0, w.err_read - w.eof_delimited);
  return w.non2xx + w.bad_body + w.err_connect + w.err_write + w.err_timeout + extraRead;
}

const summary = {};
for (const [c] of CASES) {
  summary[c] = {};
  for (const t of TARGETS) {
    const rs = runs.filter((r) => r.case === c && r.target === t);
    if (!rs.length) continue;
    const ok = rs.filter((r) => r.wrk && r.wrk.requests > 0);
    const secs = (r) => r.wrk.duration_us / 1e6;
    summary[c][t] = {
      rounds: rs.length,
      failed_runs: rs.length - ok.length,
      rps: median(ok.map((r) => r.wrk.rps)),
      p50_us: median(ok.map((r) => r.wrk.p50_us)),
      p90_us: median(ok.map((r) => r.wrk.p90_us)),
      p99_us: median(ok.map((r) => r.wrk.p99_us)),
      max_us: median(ok.map((r) => r.wrk.max_us)),
      errors: sum(ok.map((r) => errorsOf(r.wrk))),
      requests: sum(ok.map((r) => r.wrk.requests)),
      eof_delimited: sum(ok.map((r) => r.wrk.eof_delimited)),
      cpu_us_per_req: median(ok.map((r) => (r.cpu_ticks * 1e6) / clk / r.wrk.requests)),
      proxy_core_pct: median(ok.map((r) => (100 * r.cpu_ticks) / clk / secs(r))),
      upstream_core_pct: median(ok.map((r) => (100 * r.upstream_ticks) / clk / secs(r))),
      turns_per_session: r0(ok, (r) => (r.sessions ? r.wrk.requests / r.sessions : null)),
    };
  }
  const d = summary[c].direct;
  for (const t of TARGETS) {
    const s = summary[c][t];
    if (s) s.added_p50_us = d && s.p50_us !== null && d.p50_us !== null ? s.p50_us - d.p50_us : null;
  }
}
function r0(rows, f) {
  const v = rows.map(f).filter((x) => x !== null);
  return v.length ? median(v) : null;
}

const processes = {};
for (const name of ['upstream', 'nginx', 'portkey', 'hermes', 'hermes-shm', 'hermes-baseline']) {
  if (!procs.some((p) => p.process === name)) continue;
  const idle = procs.find((p) => p.process === name && p.rss_idle_kb !== undefined);
  const after = procs.find((p) => p.process === name && p.rss_after_kb !== undefined);
  const starts = startup.filter((s) => s.process === name).map((s) => s.serving_ms);
  processes[name] = {
    nprocs: idle?.nprocs ?? null,
    rss_idle_kb: idle?.rss_idle_kb ?? null,
    rss_after_kb: after?.rss_after_kb ?? null,
    serving_ms_median: median(starts),
    serving_ms_min: starts.length ? Math.min(...starts) : null,
    serving_ms_max: starts.length ? Math.max(...starts) : null,
    serving_samples: starts.length,
  };
}

// --- formatting ---------------------------------------------------------------------------------
const ms = (us) => {
  if (us === null || us === undefined) return '–';
  const v = us / 1000;
  const a = Math.abs(v);
  return a < 1 ? v.toFixed(3) : a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : v.toFixed(0);
};
const signed = (us) => (us === null || us === undefined ? '–' : (us >= 0 ? '+' : '') + ms(us));
const num = (x, d = 0) => (x === null || x === undefined ? '–' : x.toFixed(d));
const intc = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const mb = (kb) => (kb === null || kb === undefined ? '–' : (kb / 1024).toFixed(1));
const msf = (x) => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const cell = (text) => String(text).replace(/\s+/g, ' ').replace(/\|/g, '\\|');  // safe in a table cell
const pct = (a, b) => (a === null || a === undefined || !b ? '–' : `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)} %`);
const baselineName = hasBaseline
  ? `${cell(meta.hermes_baseline ?? '?')}${meta.hermes_baseline_label ? ` (${cell(meta.hermes_baseline_label)})` : ''}`
  : '';

const lines = [];
const out = (s = '') => lines.push(s);

out('# Peer benchmark: hermes-gateway next to nginx and Portkey');
out();
out(`Run ${meta.date} on commit \`${meta.commit}\`${meta.src_dirty === 'true' ? ' (with uncommitted changes in src/)' : ''}`
  + `${meta.hermes_bin ? ` with the hermes-gateway given by BENCH_BIN (\`${meta.hermes_bin}\`, not built from this checkout)` : ''}; `
  + `${meta.cores} cores (${meta.cpu}), load average at start ${meta.load_at_start}; took ${meta.run_seconds} s. `
  + 'wrk and every target share the same cores, all on 127.0.0.1.');
out();
out('| setting | value |');
out('| --- | --- |');
out(`| rounds | ${meta.rounds} (targets alternate within each case; order rotates each round; numbers are medians over rounds) |`);
out(`| wrk run | ${meta.duration_s} s each, \`--timeout 5s\`; c=1 with 1 thread, c=32 with 2 threads |`);
out(`| hermes-continued | ${meta.sessions} sessions seeded afresh before each run with 20 messages of history, continued round-robin |`);
out(`| start-up samples | ${meta.starts} per process |`);
out(`| first-token test | ${meta.ttfc_rounds} rounds × ${ttfc?.targets?.length ?? (hasBaseline ? 5 : 4)} targets, sequential; upstream sends the first chunk, waits ${meta.ttfc_delay_ms} ms, then the rest |`);
out(`| versions | hermes-gateway: ${meta.hermes}; nginx ${meta.nginx} (worker_processes 1); @portkey-ai/gateway ${meta.portkey} on node ${meta.node} (@hono/node-server ${meta.hono_node_server}); wrk ${meta.wrk} |`);
if (hasBaseline) {
  out(`| baseline | hermes-gateway ${baselineName} from BENCH_BASELINE_BIN \`${cell(meta.hermes_baseline_bin ?? '?')}\`: a second gateway with the same config `
    + '(state on disk like hermes-new\'s), serving the *@baseline targets, which alternate with the others in every round |');
}
out(`| upstream | bench/peers/upstream.mjs, one node process (no cluster) |`);
out();
out('Targets: direct = the fake upstream itself; nginx = plain reverse proxy; portkey = Portkey gateway; '
  + 'hermes-new = a new session per request; hermes-continued = continuing pre-seeded sessions; '
  + 'hermes-new-shm = hermes-new on a second gateway whose state (SQLite) is on tmpfs instead of disk'
  + (hasBaseline ? `; hermes-new@baseline and hermes-continued@baseline = the same two workloads on the baseline build, ${baselineName}.` : '.'));
out();
out('Latencies in ms. wrk 4 corrects for coordinated omission: p90/p99 include synthetic samples for every stall '
  + 'longer than twice the mean per-connection interval, so rare long stalls (max) weigh heavily there. '
  + '"added p50" is the target\'s p50 minus direct\'s p50 in the same case. '
  + '"CPU µs/req" is utime+stime of the proxy process(es) over the wrk run, divided by the requests '
  + '(direct: the upstream itself). "upstream core %" is the fake upstream\'s CPU over the run, in % of one core.');
out();

for (const [c, label] of CASES) {
  if (!runs.some((r) => r.case === c)) continue;  // a case this run left out (--quick)
  out(`## ${label}`);
  out();
  out('| target | RPS | p50 | p90 | p99 | max | added p50 | errors | CPU µs/req | proxy core % | upstream core % |');
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of TARGETS) {
    const s = summary[c][t];
    if (!s) {
      if (t === 'hermes-new-shm' && meta.quick === '1') continue;  // --quick runs no tmpfs gateway
      out(`| ${t} | not run | | | | | | | | | |`);
      continue;
    }
    out(`| ${t} | ${intc(s.rps)} | ${ms(s.p50_us)} | ${ms(s.p90_us)} | ${ms(s.p99_us)} | ${ms(s.max_us)} | ${t === 'direct' ? '–' : signed(s.added_p50_us)} | `
      + `${intc(s.errors)}${s.failed_runs ? ` (${s.failed_runs} runs failed)` : ''} | ${num(s.cpu_us_per_req)} | ${num(s.proxy_core_pct)} | ${num(s.upstream_core_pct)} |`);
  }
  out();
}

if (hasBaseline) {
  out(`## hermes-gateway: this build vs the baseline (${baselineName})`);
  out();
  out('The rows above side by side; Δ is this build against the baseline (negative p50 and CPU, positive RPS: this build is better). '
    + 'Both ran in the same rounds, alternating, so they saw the same machine.');
  out();
  out('| case | workload | RPS | baseline RPS | Δ RPS | p50 | baseline p50 | Δ p50 | CPU µs/req | baseline CPU µs/req | Δ CPU | errors (this / baseline) |');
  out('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [c] of CASES) {
    for (const w of ['hermes-new', 'hermes-continued']) {
      const a = summary[c][w];
      const b = summary[c][`${w}${BASELINE}`];
      if (!a && !b) continue;
      const dp50 = a?.p50_us != null && b?.p50_us != null ? signed(a.p50_us - b.p50_us) : '–';
      out(`| ${c} | ${w} | ${intc(a?.rps)} | ${intc(b?.rps)} | ${pct(a?.rps, b?.rps)} | ${ms(a?.p50_us)} | ${ms(b?.p50_us)} | ${dp50} | `
        + `${num(a?.cpu_us_per_req)} | ${num(b?.cpu_us_per_req)} | ${pct(a?.cpu_us_per_req, b?.cpu_us_per_req)} | ${intc(a?.errors)} / ${intc(b?.errors)} |`);
    }
  }
  out();
}

out('## Processes');
out();
out('RSS is VmRSS summed over the process and its direct children (nginx: master + worker), idle right after start-up '
  + 'and again after all rounds. exec→serving: from spawn to the first 2xx answer, polled every 1 ms '
  + '(upstream and hermes: `GET /health`; nginx: `GET /health` proxied to the upstream; Portkey: `GET /`).');
out();
out('| process | serves | procs | RSS idle MB | RSS after load MB | exec→serving ms (median) | min–max |');
out('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
const serves = {
  upstream: 'direct', nginx: 'nginx', portkey: 'portkey', hermes: 'hermes-new, hermes-continued', 'hermes-shm': 'hermes-new-shm',
  'hermes-baseline': 'hermes-new@baseline, hermes-continued@baseline',
};
for (const [name, p] of Object.entries(processes)) {
  out(`| ${name} | ${serves[name]} | ${p.nprocs ?? '–'} | ${mb(p.rss_idle_kb)} | ${mb(p.rss_after_kb)} | ${msf(p.serving_ms_median)} | `
    + `${msf(p.serving_ms_min)}–${msf(p.serving_ms_max)} (n=${p.serving_samples}) |`);
}
out();

out('## Streamed first-token pass-through');
out();
if (ttfc) {
  out(`Time to the first token ("Hello", in the upstream's first chunk) of sequential streamed requests; the upstream holds the rest `
    + `back for ${ttfc.delay_ms} ms, so a target that buffers shows ≥ ${ttfc.delay_ms} ms here.`);
  out();
  out('| target | n | first token p50 ms | p90 ms | added p50 ms | whole stream p50 ms | errors |');
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of ttfc.targets) {
    out(`| ${t.name} | ${t.n} | ${msf(t.ttft_p50_ms)} | ${msf(t.ttft_p90_ms)} | ${t.name === 'direct' ? '–' : (t.added_ttft_p50_ms >= 0 ? '+' : '') + msf(t.added_ttft_p50_ms)} | `
      + `${msf(t.total_p50_ms)} | ${t.errors}${t.last_error ? ` (${t.last_error})` : ''} |`);
  }
} else {
  out(meta.quick === '1' ? 'Not run (--quick).' : 'Not run (ttfc.mjs failed; see the run log).');
}
out();

// --- notes the run itself gives -----------------------------------------------------------------
const notes = [];
for (const p of preflight.filter((x) => !x.ok)) {
  notes.push(`Preflight failed for ${p.target} (${p.stream ? 'streamed' : 'plain'}): ${p.detail}; that target was left out of the rounds.`);
}
for (const t of TARGETS) {
  const eof = CASES.reduce((n, [c]) => n + (summary[c][t]?.eof_delimited || 0), 0);
  if (eof) {
    notes.push(`${t}: ${intc(eof)} answers were delimited by closing the connection (no Content-Length, not chunked), so each costs a `
      + 'new TCP connection; wrk counts a read error for each, which the errors column leaves out.');
  }
  const errs = CASES.filter(([c]) => summary[c][t]?.errors).map(([c]) => `${c}: ${intc(summary[c][t].errors)}`);
  if (errs.length) notes.push(`${t} had errors (${errs.join(', ')}); see latest.json for the breakdown.`);
}
for (const [c] of CASES) {
  const d = summary[c].direct;
  if (d && d.upstream_core_pct > 85) {
    notes.push(`In ${c} the upstream alone used ${num(d.upstream_core_pct)}% of a core for direct: there the floor is the upstream `
      + 'and wrk sharing 2 cores, not a property of any proxy.');
  }
  for (const t of TARGETS.slice(1)) {
    const s = summary[c][t];
    if (s && s.upstream_core_pct > 85) notes.push(`In ${c} the upstream used ${num(s.upstream_core_pct)}% of a core behind ${t}: it may have limited that target.`);
  }
}
for (const t of TARGETS.filter((x) => x.startsWith('hermes-continued'))) {
  const cont = CASES.map(([c]) => [c, summary[c][t]?.turns_per_session]).filter(([, v]) => v);
  if (cont.length) {
    notes.push(`${t}: sessions start at 20 messages and grow by 2 per turn; turns per session in a run (median): `
      + cont.map(([c, v]) => `${c} ${num(v, 1)}`).join(', ') + '.');
  }
}
for (const t of TARGETS.slice(1)) {
  const st = summary['c1-stream'][t];
  const pl = summary['c1-plain'][t];
  if (t === 'portkey' || !st || !pl || st.p50_us < 20000 || st.p50_us < 10 * pl.p50_us) continue;
  if ((st.p90_us - st.p50_us) / st.p50_us > 0.15) continue;
  notes.push(`${t}: at c=1 every streamed request took about ${ms(st.p50_us)} ms (p50 ${ms(st.p50_us)}, p90 ${ms(st.p90_us)}) `
    + `against ${ms(pl.p50_us)} ms plain: a fixed stall per streamed request on a kept-alive connection, the signature of `
    + 'Nagle\'s algorithm meeting the client\'s delayed ACK (40 ms on Linux). It caps the streamed rate at about '
    + `connections / ${ms(st.p50_us)} ms, whatever the CPU.`);
}
const pk = ttfc?.targets.find((t) => t.name === 'portkey');
if (pk && pk.added_ttft_p50_ms > 15) {
  notes.push(`Portkey's first token came ${msf(pk.added_ttft_p50_ms)} ms after direct's: @portkey-ai/gateway 1.15.x waits 25 ms `
    + 'before it forwards the first chunk of a stream (a setTimeout(…, 25) in the stream transformer of build/start-server.js), '
    + 'which also caps its c=1 streamed rate near 1/(25 ms + its own time). Chunks after the first pass through as they arrive.');
}
const ngxErr = readText('nginx-errors.txt');
if (ngxErr) notes.push(`nginx error log: ${ngxErr.split('\n').slice(0, 3).join(' / ')}`);
const hmErr = readText('hermes-errors.txt');
if (hmErr) notes.push(`hermes-gateway logged more than info lines: ${hmErr.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
const baseErr = readText('hermes-baseline-errors.txt');
if (baseErr) notes.push(`The baseline hermes-gateway logged more than info lines: ${baseErr.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
if (notes.length) {
  out('## Notes from this run');
  out();
  for (const n of notes) out(`- ${n}`);
  out();
}
out('How to read this and the caveats: bench/peers/README.md.');

fs.writeFileSync(opt.md, lines.join('\n') + '\n');
fs.writeFileSync(opt.json, JSON.stringify({ meta, summary, processes, ttfc, preflight, runs, startup }, null, 1) + '\n');
