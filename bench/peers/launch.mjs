// Starts one benchmark target and measures exec -> serving.
//
//   node launch.mjs --ready FILE --log FILE --poll URL [--timeout-ms N] -- CMD ARGS...
//
// Spawns CMD in its own process group (stdout+stderr to --log), then polls URL every 1 ms until
// the first 2xx answer. Writes {"pid", "serving_ms", "polls"} (or {"error"}) to --ready, and
// stays as the target's parent so the target is reaped: SIGTERM/SIGINT here are forwarded to
// the target's process group (SIGKILL after 3 s), and this process exits when the target does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  console.error('usage: launch.mjs --ready FILE --log FILE --poll URL [--timeout-ms N] -- CMD ARGS...');
  process.exit(2);
}
const opts = {};
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
const [cmd, ...args] = argv.slice(sep + 1);
const timeoutMs = Number(opts['timeout-ms'] || 20000);

function writeReady(value) {
  const tmp = `${opts.ready}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value) + '\n');
  fs.renameSync(tmp, opts.ready);
}

const log = fs.openSync(opts.log, 'a');
const t0 = process.hrtime.bigint();
const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log] });
let ready = false;
let stopping = false;
let polls = 0;

const killGroup = (signal) => {
  try { process.kill(-child.pid, signal); } catch { /* gone */ }
};
const stop = () => {
  if (stopping) return;
  stopping = true;
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', stop);

child.on('error', (err) => {
  writeReady({ error: `spawn ${cmd}: ${err.message}` });
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (!ready) writeReady({ error: `exited before serving (${signal || code}); see ${opts.log}` });
  killGroup('SIGKILL');  // any worker left in the group
  process.exit(ready ? 0 : 1);
});

const deadline = setTimeout(() => {
  if (ready) return;
  writeReady({ error: `not serving after ${timeoutMs} ms; see ${opts.log}` });
  stop();
}, timeoutMs);

function poll() {
  if (ready || stopping) return;
  polls++;
  const req = http.get(opts.poll, { agent: false, timeout: 1000 }, (res) => {
    res.resume();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      ready = true;
      clearTimeout(deadline);
      writeReady({ pid: child.pid, serving_ms: Math.round(ms * 100) / 100, polls });
    } else {
      setTimeout(poll, 1);
    }
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => setTimeout(poll, 1));
}
poll();
