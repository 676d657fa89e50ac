// Streamed first-token pass-through: sequential streamed requests, alternating the targets
// (direct first in every round), where the upstream sends the first SSE chunk ("Hello"), waits
// --delay-ms, then the rest. A proxy that passes chunks through shows a first token well before
// the delay; one that buffers shows it after.
//
//   node ttfc.mjs --targets JSON --rounds N --delay-ms MS --out FILE
//   JSON: [{"name": "direct", "url": "http://127.0.0.1:P/v1/chat/completions", "headers": {}}, …]
//
// Per target: p50/p90 time to first token (first body bytes holding the first delta's
// "Hello"), p50 time to the end of the stream, p50 added TTFT over direct, errors.
// Bounded: each request times out after 5 s; N rounds × targets requests in all.
import http from 'node:http';
import fs from 'node:fs';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const targets = JSON.parse(opt.targets);
const rounds = Number(opt.rounds || 50);
const delay = Number(opt['delay-ms'] || 20);

const body = JSON.stringify({
  model: 'demo-model', stream: true,
  messages: [{ role: 'user', content: `first_chunk_delay_ms=${delay} (pass-through probe)` }],
});

function once(target, agent) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
    let first = null;
    let text = '';
    const req = http.request(target.url, {
      method: 'POST', agent, timeout: 5000,
      headers: {
        'content-type': 'application/json', authorization: 'Bearer sk-bench',
        'content-length': Buffer.byteLength(body), ...(target.headers || {}),
      },
    }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        if (first === null && text.includes('Hello')) first = ms();
      });
      res.on('end', () => {
        const ok = res.statusCode === 200 && first !== null && text.includes('[DONE]');
        resolve(ok ? { ttft: first, total: ms() } : { error: `status ${res.statusCode}, ${text.length} bytes` });
      });
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
const samples = targets.map(() => ({ ttft: [], total: [], errors: 0, lastError: null }));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < targets.length; i++) {
    const result = await once(targets[i], agents[i]);
    if (result.error) { samples[i].errors++; samples[i].lastError = result.error; continue; }
    samples[i].ttft.push(result.ttft);
    samples[i].total.push(result.total);
  }
}
agents.forEach((a) => a.destroy());

const round2 = (x) => (x === null ? null : Math.round(x * 100) / 100);
const directP50 = pct(samples[0].ttft, 50);
const out = {
  rounds, delay_ms: delay,
  targets: targets.map((t, i) => ({
    name: t.name,
    n: samples[i].ttft.length,
    errors: samples[i].errors,
    last_error: samples[i].lastError,
    ttft_p50_ms: round2(pct(samples[i].ttft, 50)),
    ttft_p90_ms: round2(pct(samples[i].ttft, 90)),
    total_p50_ms: round2(pct(samples[i].total, 50)),
    added_ttft_p50_ms: directP50 === null || !samples[i].ttft.length ? null : round2(pct(samples[i].ttft, 50) - directP50),
  })),
};
fs.writeFileSync(opt.out, JSON.stringify(out, null, 2) + '\n');
for (const t of out.targets) {
  console.error(`ttfc: ${t.name.padEnd(18)} p50 ${t.ttft_p50_ms} ms (added ${t.added_ttft_p50_ms}), p90 ${t.ttft_p90_ms}, total p50 ${t.total_p50_ms}, errors ${t.errors}`);
}
