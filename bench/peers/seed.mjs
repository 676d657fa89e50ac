// Creates hermes sessions that start with 20 messages of history, for the hermes-continued case.
//
//   node seed.mjs --url http://127.0.0.1:PORT --count N --out FILE [--concurrency 8]
//                 [--messages M]
//
// Each session is one plain request with a system message, user/assistant pairs and a final
// user message: 20 messages (9 pairs), or M (even, 4..1000; long_sessions.sh); the X-Hermes-Session-Id answer header is written to FILE, one per
// line. Bounded: each request times out after 10 s, the whole run after 120 s.
import http from 'node:http';
import fs from 'node:fs';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const url = new URL('/v1/chat/completions', opt.url);
const count = Number(opt.count || 200);
const concurrency = Number(opt.concurrency || 8);
const total = Number(opt.messages || 20);
if (!(total >= 4 && total <= 1000 && total % 2 === 0)) {
  console.error('seed: --messages must be an even number from 4 to 1000');
  process.exit(2);
}

const messages = [{ role: 'system', content: 'You are a helpful assistant in a benchmark.' }];
for (let i = 1; i <= (total - 2) / 2; i++) {
  messages.push({ role: 'user', content: `Earlier question number ${i}: what is ${i} times ${i + 1}?` });
  messages.push({ role: 'assistant', content: `${i} times ${i + 1} is ${i * (i + 1)}.` });
}
messages.push({ role: 'user', content: 'Thanks. Now say hello.' });
const body = JSON.stringify({ model: 'demo-model', messages, stream: false });

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const ids = [];
let started = 0;
let failed = 0;
const allDone = setTimeout(() => { console.error(`seed: gave up after 120 s (${ids.length}/${count})`); process.exit(1); }, 120000);

function one() {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent, timeout: 10000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        const id = res.headers['x-hermes-session-id'];
        if (res.statusCode === 200 && id) ids.push(id); else failed++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { failed++; resolve(); });
    req.end(body);
  });
}

async function worker() {
  while (started < count && failed < 20) {
    started++;
    await one();
  }
}

const t0 = Date.now();
await Promise.all(Array.from({ length: concurrency }, worker));
clearTimeout(allDone);
agent.destroy();
if (ids.length < count) {
  console.error(`seed: only ${ids.length}/${count} sessions created (${failed} failed)`);
  process.exit(1);
}
fs.writeFileSync(opt.out, ids.join('\n') + '\n');
console.error(`seed: ${ids.length} sessions in ${Date.now() - t0} ms`);
