// The fake LLM provider the peer benchmark puts behind every target. Node, http module, no deps.
//
//   node upstream.mjs --port N [--workers W]      prints "listening PORT" once serving
//
// POST …/chat/completions   a fixed small chat.completion (with usage), or, when the body asks
//                           for "stream": true, SSE: a first chunk that already carries a token,
//                           (optional delay), three more content chunks, a finish chunk, a usage
//                           chunk when stream_options.include_usage is asked for, data: [DONE].
// GET /health               200 "ok" (what the start-up poll uses)
//
// First-chunk delay (the pass-through test): UPSTREAM_FIRST_CHUNK_DELAY_MS, or per request a
// last message whose content contains "first_chunk_delay_ms=N" (it survives every proxy, which
// headers and query strings do not).
//
// The body is never JSON-parsed: a regex finds "stream": true, so the upstream stays cheap and is
// not what limits the floor. With --workers W > 1 it runs W cluster workers on one port
// (round-robin by the primary); W = 1 is one plain process.
import http from 'node:http';
import cluster from 'node:cluster';

const args = process.argv.slice(2);
let port = 0;
let workers = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--workers') workers = Math.max(1, Number(args[++i]));
}
const defaultDelay = Number(process.env.UPSTREAM_FIRST_CHUNK_DELAY_MS || 0);

const created = Math.floor(Date.now() / 1000);
const completion = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created, model: 'demo-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench upstream.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
}));
const chunk = (delta, finish = null, extra = {}) => `data: ${JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'demo-model',
  choices: [{ index: 0, delta, finish_reason: finish }], ...extra,
})}\n\n`;
const firstChunk = chunk({ role: 'assistant', content: 'Hello' });
const restChunks = [' from', ' the bench', ' upstream.'].map((t) => chunk({ content: t })).join('')
  + chunk({}, 'stop');
const usageChunk = `data: ${JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'demo-model', choices: [],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
})}\n\n`;
const done = 'data: [DONE]\n\n';

const streamRe = /"stream"\s*:\s*true/;
const usageRe = /"include_usage"\s*:\s*true/;
const delayRe = /first_chunk_delay_ms=(\d+)/;

function chat(req, res) {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const raw = parts.length === 1 ? parts[0].toString('latin1') : Buffer.concat(parts).toString('latin1');
    if (!streamRe.test(raw)) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length });
      res.end(completion);
      return;
    }
    const m = delayRe.exec(raw);
    const delay = m ? Number(m[1]) : defaultDelay;
    const tail = restChunks + (usageRe.test(raw) ? usageChunk : '') + done;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (delay > 0) {
      res.write(firstChunk);
      setTimeout(() => res.end(tail), delay);
    } else {
      res.end(firstChunk + tail);  // one write: the floor, not node's per-write cost
    }
  });
}

function handle(req, res) {
  if (req.method === 'POST' && req.url.endsWith('/chat/completions')) return chat(req, res);
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    return res.end('ok');
  }
  req.resume();
  const body = `{"error":{"message":"no route ${req.method} ${req.url}"}}`;
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function serve(announce) {
  const server = http.createServer(handle);
  server.keepAliveTimeout = 60000;
  server.headersTimeout = 65000;
  server.listen(port, '127.0.0.1', () => announce(server.address().port));
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

if (workers === 1) {
  serve((p) => process.stdout.write(`listening ${p}\n`));
} else if (cluster.isPrimary) {
  if (!port) { console.error('upstream: --workers > 1 needs an explicit --port'); process.exit(2); }
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let ready = 0;
  let shuttingDown = false;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on('listening', () => { if (++ready === 1) process.stdout.write(`listening ${port}\n`); });
  }
  cluster.on('exit', (w, code, signal) => {
    if (!shuttingDown) { console.error(`upstream: worker ${w.process.pid} died (${signal || code})`); process.exit(1); }
  });
  const stop = () => { shuttingDown = true; for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM'); setTimeout(() => process.exit(0), 200).unref(); };
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  serve(() => {});
}
