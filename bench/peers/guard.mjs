// The CI guard of `run.sh --quick`: hermes-gateway's CPU per turn over nginx's, measured in the
// same run, against the ratios committed in baseline.json. Fails (exit 1) only on a gross
// regression: a ratio more than `tolerance` (2) times the committed one. Machines differ in
// what a request costs, so only ratios within one run are compared.
//
//   node guard.mjs --work DIR --baseline baseline.json
//
// Prints one line per guarded target and case. Exit 0: within bounds; 1: a gross regression;
// 2: the run or the baseline is unusable (a target missing, no requests, a malformed file).
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];

const unusable = (why) => {
  console.error(`guard: ${why}`);
  process.exit(2);
};
if (!opt.work || !opt.baseline) unusable('usage: node guard.mjs --work DIR --baseline FILE');

let baseline;
try {
  baseline = JSON.parse(fs.readFileSync(opt.baseline, 'utf8'));
} catch (e) {
  unusable(`cannot read ${opt.baseline}: ${e.message}`);
}
const tolerance = Number(baseline.tolerance ?? 2);
if (!(tolerance >= 1)) unusable('baseline.json: tolerance must be a number >= 1');

let meta;
let runs;
try {
  meta = JSON.parse(fs.readFileSync(path.join(opt.work, 'meta.json'), 'utf8'));
  runs = fs.readFileSync(path.join(opt.work, 'runs.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch (e) {
  unusable(`cannot read the run in ${opt.work}: ${e.message}`);
}
const clk = Number(meta.clk_tck || 100);

// CPU µs per request of `target` in `kase`, the median over rounds.
const cpuPerRequest = (kase, target) => {
  const values = runs
    .filter((r) => r.case === kase && r.target === target && r.wrk && r.wrk.requests > 0)
    .map((r) => (r.cpu_ticks * 1e6) / clk / r.wrk.requests)
    .sort((a, b) => a - b);
  return values.length ? values[Math.floor(values.length / 2)] : null;
};

let regressed = false;
for (const [key, committed] of Object.entries(baseline.ratios || {})) {
  const [kase, target] = key.split(' ');
  const hermes = cpuPerRequest(kase, target);
  const nginx = cpuPerRequest(kase, 'nginx');
  if (hermes === null || nginx === null || nginx <= 0) {
    unusable(`no usable ${target} or nginx run in case ${kase} (see runs.jsonl)`);
  }
  const ratio = hermes / nginx;
  const limit = committed * tolerance;
  const verdict = ratio > limit ? 'REGRESSION' : 'ok';
  if (ratio > limit) regressed = true;
  console.log(
    `guard: ${kase} ${target}: ${hermes.toFixed(0)} µs/req = ${ratio.toFixed(2)}× nginx's ` +
      `${nginx.toFixed(0)} µs (committed ${committed.toFixed(2)}×, fails above ` +
      `${limit.toFixed(2)}×): ${verdict}`,
  );
}
if (regressed) {
  console.log(
    'guard: CPU per turn grew grossly against nginx in the same run. If the change is meant to ' +
      'cost more, update bench/peers/baseline.json in the same commit and say why.',
  );
  process.exit(1);
}
