// What the Anthropic wire format costs and saves, in one run (see README.md "Anthropic").
//
//   node bench/anthropic/run.mjs [--gateway PATH] [--requests N] [--turns T]
//
// One fake provider (tests/fake_provider, both wire formats) and four gateways on loopback:
//   openai     primary speaks chat completions
//   anthropic  primary speaks the Messages API (prompt caching on, the default)
//   nocache    the same with prompt_caching: false
// 1. Time added per turn: N sequential plain turns through each of openai and anthropic, and N
//    straight to the fake in each format, interleaved in rounds of 100; p50 and p99 of each,
//    the gateway's added time (through it minus straight to the fake), and the gateway's CPU
//    per turn (utime + stime from /proc).
// 2. Prompt caching: one T-turn session through anthropic and through nocache; the input
//    tokens the fake billed (uncached input, cache writes, cache reads, and the total priced
//    at Anthropic's rates: writes 1.25x, reads 0.1x).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const gatewayBin = opt('--gateway', path.join(repo, 'build/bench/src/daemon/hermes-gateway'));
const requests = Number(opt('--requests', 2000));
const turns = Number(opt('--turns', 20));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-anthropic-bench-'));
const children = [];
process.on('exit', () => children.forEach((c) => { try { c.kill('SIGTERM'); } catch { /* gone */ } }));

function start(cmd, argv, env = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

async function waitFor(url) {
  for (let i = 0; i < 2000; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} never answered`);
}

const fake = start('node', [path.join(repo, 'tests/fake_provider/fake_provider.mjs')]);
const fakePort = await new Promise((resolve) => fake.stdout.on('data', (d) => {
  const m = /listening (\d+)/.exec(String(d));
  if (m) resolve(Number(m[1]));
}));
const fakeUrl = `http://127.0.0.1:${fakePort}`;

let nextPort = 18700 + Math.floor(Math.random() * 200);
async function gateway(name, provider) {
  const home = path.join(tmp, name);
  fs.mkdirSync(path.join(home, 'run'), { recursive: true });
  const port = nextPort++;
  fs.writeFileSync(path.join(home, 'config.yaml'), [
    'model: {provider: p, default: bench-model}',
    `providers: {p: {base_url: '${fakeUrl}/v1', api_keys: [bench-key], ${provider}}}`,
    `gateway: {api_server: {host: 127.0.0.1, port: ${port}}}`,
    '',
  ].join('\n'));
  const child = start(gatewayBin, [], { HERMES_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') });
  await waitFor(`http://127.0.0.1:${port}/health`);
  return { name, port, pid: child.pid };
}

const cpuTicks = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);  // utime + stime
};
const ticksPerSecond = 100;

const chatBody = (text) => JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: text }] });
const messagesBody = (text) => JSON.stringify({ model: 'bench-model', max_tokens: 256, messages: [{ role: 'user', content: text }] });
const targets = {};

async function timed(url, body, headers) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const openai = await gateway('openai', 'api: openai');
const anthropic = await gateway('anthropic', 'api: anthropic');
const nocache = await gateway('nocache', 'api: anthropic, prompt_caching: false');
const text = 'Summarise the last quarter in three short bullet points, please.';
const cases = [
  { name: 'fake, chat completions', url: `${fakeUrl}/v1/chat/completions`, body: chatBody(text), headers: { authorization: 'Bearer bench-key' } },
  { name: 'gateway, OpenAI primary', url: `http://127.0.0.1:${openai.port}/v1/chat/completions`, body: chatBody(text), gw: openai },
  { name: 'fake, Messages API', url: `${fakeUrl}/v1/messages`, body: messagesBody(text), headers: { 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' } },
  { name: 'gateway, Anthropic primary', url: `http://127.0.0.1:${anthropic.port}/v1/chat/completions`, body: chatBody(text), gw: anthropic },
];
for (const c of cases) { c.samples = []; c.ticks = 0; }
for (let i = 0; i < 50; i++) for (const c of cases) await timed(c.url, c.body, c.headers);  // warm-up
for (let done = 0; done < requests; done += 100) {
  for (const c of cases) {
    const before = c.gw ? cpuTicks(c.gw.pid) : 0;
    for (let i = 0; i < 100; i++) c.samples.push(await timed(c.url, c.body, c.headers));
    if (c.gw) c.ticks += cpuTicks(c.gw.pid) - before;
  }
}
await fetch(`${fakeUrl}/__reset`, { method: 'POST', body: '{}' });

const lines = [];
const say = (line = '') => { lines.push(line); console.log(line); };
say(`# Anthropic wire format: ${requests} sequential plain turns per case, ${new Date().toISOString()}`);
say();
say('| case | p50 ms | p99 ms | gateway CPU µs/turn |');
say('|---|---:|---:|---:|');
for (const c of cases) {
  const cpu = c.gw ? ((c.ticks / ticksPerSecond) * 1e6 / c.samples.length).toFixed(0) : '';
  say(`| ${c.name} | ${quantile(c.samples, 0.5).toFixed(3)} | ${quantile(c.samples, 0.99).toFixed(3)} | ${cpu} |`);
}
const added = (gw, direct, q) => (quantile(cases[gw].samples, q) - quantile(cases[direct].samples, q)).toFixed(3);
say();
say(`Time the gateway adds per turn: OpenAI path p50 ${added(1, 0, 0.5)} ms, p99 ${added(1, 0, 0.99)} ms; ` +
    `Anthropic path p50 ${added(3, 2, 0.5)} ms, p99 ${added(3, 2, 0.99)} ms.`);

// One session of `turns` turns through `gw`: what the fake billed.
async function session(gw) {
  await fetch(`${fakeUrl}/__reset`, { method: 'POST', body: '{}' });
  let id = '';
  for (let t = 1; t <= turns; t++) {
    const headers = { 'content-type': 'application/json' };
    if (id) headers['x-hermes-session-id'] = id;
    const r = await fetch(`http://127.0.0.1:${gw.port}/v1/chat/completions`, {
      method: 'POST', headers,
      body: chatBody(`Turn ${t}: tell me one more thing about the history of the printing press, and keep it to two sentences. ` + 'Context. '.repeat(40)),
    });
    if (!r.ok) throw new Error(`turn ${t}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
    id = r.headers.get('x-hermes-session-id');
  }
  const calls = await (await fetch(`${fakeUrl}/__calls`)).json();
  const sum = (k) => calls.reduce((n, c) => n + (c.usage?.[k] ?? 0), 0);
  const input = sum('input_tokens'), write = sum('cache_creation_input_tokens'), read = sum('cache_read_input_tokens');
  return { input, write, read, all: input + write + read, priced: input + 1.25 * write + 0.1 * read };
}
const cached = await session(anthropic);
const uncached = await session(nocache);
say();
say(`## A ${turns}-turn session, input tokens billed by the fake`);
say();
say('| prompt caching | uncached input | cache writes | cache reads | all input | priced as input (writes 1.25×, reads 0.1×) |');
say('|---|---:|---:|---:|---:|---:|');
for (const [name, u] of [['on', cached], ['off', uncached]]) {
  say(`| ${name} | ${u.input} | ${u.write} | ${u.read} | ${u.all} | ${u.priced.toFixed(0)} |`);
}
say();
say(`Caching cuts the input bill of this session by ${(100 * (1 - cached.priced / uncached.priced)).toFixed(1)} %.`);
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'latest.md'), lines.join('\n') + '\n');
process.exit(0);
