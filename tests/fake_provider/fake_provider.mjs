// A scriptable fake LLM provider for the integration tests: OpenAI's chat completions and
// Anthropic's Messages API (POST …/messages, see anthropic() below).
//
//   node fake_provider.mjs [--port N] [--tls CERT KEY]
// prints "listening PORT" once ready. Control endpoints (plain JSON):
//   POST /__script  {"key": "sk-a" | "*" | "model:<name>", "steps": [Step, ...]}  queue replies
//                   for a key (or for calls asking for a model, before any key's)
//   GET  /__calls   every /chat/completions call so far: {key, model, messages, stream, at, conn,
//                   abandoned_at (set when the caller hung up before the reply was complete)}
//   POST /__reset   forget scripts and calls
//   /bot<token>/<method>  a minimal Telegram Bot API (see below)
//   POST /__bot {updates: [...], failing: ["sendMessage", …], limit: {method, retry_after,
//                   times}, hanging: ["getUpdates", …]}  queue updates for its next getUpdates;
//                   make methods answer 500 until `failing` is set again; answer `method` with
//                   a 429 `times` times; leave calls to `hanging` methods unanswered until
//                   `hanging` is set again (they are then answered as usual)
// A Step (all optional): {status, body (string|object), headers, delay_ms, hang, reset,
//   truncate (send half the body and close), malformed (200 with garbage),
//   stream: ["tok", ...] (SSE deltas), stream_break_after: N (drop the connection after N
//   deltas), delta_delay_ms: N (pause between deltas, default 5), content: "reply text",
//   tool_calls: [{id, name, arguments}] (answer by asking for tools; streamed as
//   delta.tool_calls with the arguments in two pieces)}
// With no step queued, the reply is "echo: <last user message>", streamed when asked.
// Usage is reported as an estimate (prompt: characters / 4 + 4 per message; completion:
// characters / 4 + 1), also in streams that ask for it, and kept in the call record (usage).
// Anthropic (POST …/messages): the same scripts and Step fields (content, stream, tool_calls,
//   status/body, usage), plus stream_error_after: N (an overloaded_error event after N
//   deltas) and stop_reason (instead of end_turn, e.g. max_tokens). Strict like the real API: 400 without max_tokens or anthropic-version, for a
//   tool_result that answers no tool_use, roles that do not alternate, an empty text block or
//   more than four cache_control breakpoints; 401 for a missing x-api-key or one not in
//   POST /__anthropic {keys: [...]} (when set). Prompt caching is simulated: the prefix up to
//   each breakpoint is cached; a later request that repeats it (within 20 blocks before a
//   breakpoint) reads it back, and usage reports input_tokens, cache_creation_input_tokens
//   and cache_read_input_tokens (tokens = characters / 4) in the call record too.
//   POST /__limits {max_chars: N, echo_max: M}  refuse requests whose messages exceed N
//                                  characters with OpenAI's 400 context_length_exceeded (0: no
//                                  limit); cut echoed text to M characters (a model's summary is
//                                  shorter than what it read)
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';

const args = process.argv.slice(2);
let port = 0;
let tls = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--tls') tls = { cert: fs.readFileSync(args[++i]), key: fs.readFileSync(args[++i]) };
}

const scripts = new Map();  // key -> steps[]
let maxChars = 0;  // 0: no context limit
let botUpdates = [];    // updates the minimal Bot API's next getUpdates returns
let botHanging = [];    // methods whose calls are left unanswered
let botHeld = [];       // those calls, waiting: {method, release}
let botFailing = [];    // Bot API methods that answer 500 for now
let botLimits = {};     // method -> {retry_after, times}: answer 429 that many times
let echoMax = 0;   // 0: echo whole
let calls = [];
const socketIds = new WeakMap();  // which TCP connection a call came on (reuse checks)
let nextSocketId = 1;
const socketId = (socket) => {
  if (!socketIds.has(socket)) socketIds.set(socket, nextSocketId++);
  return socketIds.get(socket);
};

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function json(res, status, value, headers = {}) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const messageChars = (messages) => (messages || []).reduce((n, m) =>
  n + (typeof m.content === 'string' ? m.content.length : 0) +
  (m.tool_calls ? JSON.stringify(m.tool_calls).length : 0), 0);

function usageOf(request, content) {
  const prompt = Math.ceil(messageChars(request.messages) / 4) + 4 * (request.messages || []).length;
  const completion = Math.ceil((content || '').length / 4) + 1;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function completion(model, content, usage) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  };
}

function chunk(model, delta, finish = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function streamReply(res, model, tokens, breakAfter, gapMs = 5, usage = null) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk(model, { role: 'assistant', content: '' }));
  for (let i = 0; i < tokens.length; i++) {
    if (breakAfter !== undefined && i >= breakAfter) {
      res.socket.destroy();
      return;
    }
    res.write(chunk(model, { content: tokens[i] }));
    if (gapMs > 0) await sleep(gapMs);
  }
  res.write(chunk(model, {}, 'stop'));
  if (usage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

async function chatCompletions(req, res) {
  const raw = await readBody(req);
  let request = {};
  try { request = JSON.parse(raw); } catch { return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } }); }
  const auth = req.headers.authorization || '';
  const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const call = { key, model: request.model, messages: request.messages, stream: !!request.stream, tools: request.tools, at: Date.now(), conn: socketId(req.socket) };
  calls.push(call);
  // The caller closed the connection before the reply was complete: when (the gateway drops
  // the provider's stream when its own client hangs up).
  res.on('close', () => { if (!res.writableFinished) call.abandoned_at = Date.now(); });
  const byModel = scripts.get(`model:${request.model}`);
  const queue = byModel?.length ? byModel : scripts.get(key)?.length ? scripts.get(key) : scripts.get('*');
  const step = queue?.length ? queue.shift() : {};
  const lastUser = [...(request.messages || [])].reverse().find((m) => m.role === 'user');
  const echoed = typeof lastUser?.content === 'string' ? lastUser.content : '';
  const content = step.content ?? `echo: ${echoMax > 0 ? echoed.slice(0, echoMax) : echoed}`;
  if (maxChars > 0 && messageChars(request.messages) > maxChars) {
    call.refused = 'context_length_exceeded';
    return json(res, 400, { error: {
      message: `This model's maximum context length is ${Math.floor(maxChars / 4)} tokens. However, your messages resulted in ${Math.ceil(messageChars(request.messages) / 4)} tokens. Please reduce the length of the messages.`,
      type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  }
  const usage = step.usage ?? usageOf(request, step.tool_calls ? JSON.stringify(step.tool_calls) : content);
  const wantsUsage = !!request.stream_options?.include_usage;

  if (step.delay_ms) await sleep(step.delay_ms);
  if (step.hang) return;  // never answer
  if (step.reset) { req.socket.resetAndDestroy ? req.socket.resetAndDestroy() : req.socket.destroy(); return; }
  if (step.malformed) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"id": "chatcmpl-fake", "choices": [ this is not json');
  }
  if (step.status && step.status !== 200) {
    const body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {});
    res.writeHead(step.status, { 'content-type': typeof step.body === 'string' ? 'text/html' : 'application/json', ...(step.headers || {}) });
    return res.end(body);
  }
  if (step.truncate) {
    const text = JSON.stringify(completion(request.model, content, usage));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
    return res.socket.destroy();
  }
  if (step.tool_calls) {
    const calls = step.tool_calls.map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments ?? '{}' } }));
    call.usage = usage;
    if (!request.stream) {
      const body = completion(request.model, null, usage);
      body.choices[0].message.tool_calls = calls;
      body.choices[0].finish_reason = 'tool_calls';
      return json(res, 200, body);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunk(request.model, { role: 'assistant', content: null }));
    calls.forEach((c, index) => {
      const half = Math.floor(c.function.arguments.length / 2);
      res.write(chunk(request.model, { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments.slice(0, half) } }] }));
      res.write(chunk(request.model, { tool_calls: [{ index, function: { arguments: c.function.arguments.slice(half) } }] }));
    });
    res.write(chunk(request.model, {}, 'tool_calls'));
    if (wantsUsage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', model: request.model, choices: [], usage })}\n\n`);
    return res.end('data: [DONE]\n\n');
  }
  if (request.stream) {
    const tokens = step.stream ?? content.split(/(?<= )/);
    if (step.stream_break_after === undefined) call.usage = usage;
    return streamReply(res, request.model, tokens, step.stream_break_after, step.delta_delay_ms,
      wantsUsage ? usage : null);
  }
  call.usage = usage;
  json(res, 200, completion(request.model, content, usage), step.headers || {});
}


// ---- Anthropic's Messages API ----
let anthropicKeys = null;  // null: any non-empty x-api-key
const promptCache = new Set();  // hashes of cached prefixes

const anthropicError = (res, status, type, message) =>
  json(res, status, { type: 'error', error: { type, message } });

const tokensOf = (text) => Math.ceil(text.length / 4);
const withoutCache = (block) => { const { cache_control, ...rest } = block; return rest; };
const blocksOf = (content) => typeof content === 'string' ? [{ type: 'text', text: content }] : (content || []);

// The request as the cache sees it: tools, then system blocks, then message blocks, each with
// whether a breakpoint ends it.
function cacheBlocks(request) {
  const out = [];
  for (const t of request.tools || []) out.push({ text: JSON.stringify(withoutCache(t)), mark: !!t.cache_control });
  for (const b of blocksOf(request.system)) out.push({ text: JSON.stringify(withoutCache(b)), mark: !!b.cache_control });
  for (const m of request.messages || []) {
    for (const b of blocksOf(m.content)) out.push({ text: m.role + JSON.stringify(withoutCache(b)), mark: !!b.cache_control });
  }
  return out;
}

function cacheUsage(request) {
  const blocks = cacheBlocks(request);
  const prefixTokens = [];
  const prefixKeys = [];
  let tokens = 0, key = '';
  for (const b of blocks) {
    tokens += tokensOf(b.text);
    key += b.text + '\u0000';
    prefixTokens.push(tokens);
    prefixKeys.push(key);
  }
  let read = 0, lastMark = -1;
  blocks.forEach((b, i) => {
    if (!b.mark) return;
    lastMark = i;
    for (let j = i; j >= Math.max(0, i - 20); j--) {
      if (promptCache.has(prefixKeys[j])) { read = Math.max(read, prefixTokens[j]); break; }
    }
  });
  blocks.forEach((b, i) => { if (b.mark) promptCache.add(prefixKeys[i]); });
  const write = lastMark >= 0 ? Math.max(0, prefixTokens[lastMark] - read) : 0;
  return { input_tokens: tokens - read - write, cache_creation_input_tokens: write, cache_read_input_tokens: read };
}

// Why the real API would refuse this request, or null.
function anthropicRefusal(request, headers) {
  if (!headers['anthropic-version']) return [400, 'invalid_request_error', 'anthropic-version: header is required'];
  const key = headers['x-api-key'] || '';
  if (!key || (anthropicKeys && !anthropicKeys.includes(key))) return [401, 'authentication_error', 'invalid x-api-key'];
  if (!Number.isInteger(request.max_tokens) || request.max_tokens < 1) return [400, 'invalid_request_error', 'max_tokens: Field required'];
  if (!Array.isArray(request.messages) || !request.messages.length) return [400, 'invalid_request_error', 'messages: Field required'];
  const toolUses = new Set();
  let breakpoints = (request.tools || []).filter((t) => t.cache_control).length +
    blocksOf(request.system).filter((b) => b.cache_control).length;
  for (let i = 0; i < request.messages.length; i++) {
    const m = request.messages[i];
    if (m.role !== 'user' && m.role !== 'assistant') return [400, 'invalid_request_error', `messages.${i}.role: Input should be 'user' or 'assistant'`];
    if (i > 0 && request.messages[i - 1].role === m.role) return [400, 'invalid_request_error', 'messages: roles must alternate between "user" and "assistant"'];
    for (const b of blocksOf(m.content)) {
      if (b.cache_control) breakpoints++;
      if (b.type === 'text' && !b.text) return [400, 'invalid_request_error', `messages.${i}: text content blocks must be non-empty`];
      if (b.type === 'tool_use') toolUses.add(b.id);
      if (b.type === 'tool_result' && !toolUses.has(b.tool_use_id)) {
        return [400, 'invalid_request_error', `messages.${i}: unexpected tool_use_id found in tool_result blocks: ${b.tool_use_id}`];
      }
    }
  }
  if (breakpoints > 4) return [400, 'invalid_request_error', `A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`];
  return null;
}

const sse = (res, type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);

async function anthropicStream(res, request, step, text, toolUses, usage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  sse(res, 'message_start', { message: { id: 'msg_fake', type: 'message', role: 'assistant', model: request.model, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } });
  let index = 0;
  if (!toolUses.length || text) {
    sse(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
    sse(res, 'ping', {});
    const tokens = step.stream ?? text.split(/(?<= )/);
    for (let i = 0; i < tokens.length; i++) {
      if (step.stream_error_after !== undefined && i >= step.stream_error_after) {
        sse(res, 'error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
        return res.end();
      }
      if (step.stream_break_after !== undefined && i >= step.stream_break_after) return res.socket.destroy();
      sse(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: tokens[i] } });
      await sleep(step.delta_delay_ms ?? 5);
    }
    sse(res, 'content_block_stop', { index });
    index++;
  }
  for (const use of toolUses) {
    const input = JSON.stringify(use.input);
    const half = Math.floor(input.length / 2);
    sse(res, 'content_block_start', { index, content_block: { ...use, input: {} } });
    sse(res, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: input.slice(0, half) } });
    sse(res, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: input.slice(half) } });
    sse(res, 'content_block_stop', { index });
    index++;
  }
  sse(res, 'message_delta', { delta: { stop_reason: toolUses.length ? 'tool_use' : (step.stop_reason ?? 'end_turn'), stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  sse(res, 'message_stop', {});
  res.end();
}

async function anthropic(req, res) {
  const raw = await readBody(req);
  let request = {};
  try { request = JSON.parse(raw); } catch { return anthropicError(res, 400, 'invalid_request_error', 'invalid JSON'); }
  const key = req.headers['x-api-key'] || '';
  const call = { api: 'anthropic', key, model: request.model, system: request.system, messages: request.messages, tools: request.tools, stream: !!request.stream, request, at: Date.now(), conn: socketId(req.socket) };
  calls.push(call);
  res.on('close', () => { if (!res.writableFinished) call.abandoned_at = Date.now(); });
  const refusal = anthropicRefusal(request, req.headers);
  if (refusal) { call.refused = refusal[2]; return anthropicError(res, ...refusal); }
  const queue = scripts.get(key)?.length ? scripts.get(key) : scripts.get('*');
  const step = queue?.length ? queue.shift() : {};
  if (step.delay_ms) await sleep(step.delay_ms);
  if (step.hang) return;
  if (step.status && step.status !== 200) {
    const body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {});
    res.writeHead(step.status, { 'content-type': 'application/json', ...(step.headers || {}) });
    return res.end(body);
  }
  const last = request.messages[request.messages.length - 1];
  const lastText = blocksOf(last.content).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
  const text = step.tool_calls ? (step.content ?? '') : (step.content ?? `echo: ${lastText}`);
  const toolUses = (step.tool_calls || []).map((c, i) => ({ type: 'tool_use', id: c.id ?? `toolu_${i}`, name: c.name, input: JSON.parse(c.arguments ?? '{}') }));
  const usage = step.usage ?? { ...cacheUsage(request), output_tokens: tokensOf(text + JSON.stringify(toolUses)) + 1 };
  if (step.stream_error_after === undefined && step.stream_break_after === undefined) call.usage = usage;
  if (request.stream) return anthropicStream(res, request, step, text, toolUses, usage);
  const content = [];
  if (text || !toolUses.length) content.push({ type: 'text', text });
  content.push(...toolUses);
  json(res, 200, { id: 'msg_fake', type: 'message', role: 'assistant', model: request.model, content, stop_reason: toolUses.length ? 'tool_use' : (step.stop_reason ?? 'end_turn'), stop_sequence: null, usage }, step.headers || {});
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__limits' && req.method === 'POST') {
    const limits = JSON.parse(await readBody(req) || '{}');
    maxChars = Number(limits.max_chars || 0);
    echoMax = Number(limits.echo_max || 0);
    return json(res, 200, { max_chars: maxChars, echo_max: echoMax });
  }
  if (url.pathname === '/__script' && req.method === 'POST') {
    const { key = '*', steps = [] } = JSON.parse(await readBody(req) || '{}');
    scripts.set(key, [...(scripts.get(key) || []), ...steps]);
    return json(res, 200, { queued: scripts.get(key).length });
  }
  if (url.pathname === '/__calls') return json(res, 200, calls);
  if (url.pathname === '/__reset') { scripts.clear(); calls = []; promptCache.clear(); await readBody(req); return json(res, 200, {}); }
  if (url.pathname.endsWith('/chat/completions') && req.method === 'POST') return chatCompletions(req, res);
  if (url.pathname.endsWith('/messages') && req.method === 'POST') return anthropic(req, res);
  if (url.pathname === '/__anthropic' && req.method === 'POST') {
    const control = JSON.parse(await readBody(req) || '{}');
    if ('keys' in control) anthropicKeys = control.keys;
    if (control.clear_cache) promptCache.clear();
    return json(res, 200, { keys: anthropicKeys });
  }
  // A minimal Bot API for poll-loop tests: a token containing "conflict" gets Telegram's 409,
  // any other an instant empty answer (as the local emulator gives).
  if (url.pathname === '/__bot' && req.method === 'POST') {
    const control = JSON.parse(await readBody(req) || '{}');
    if (control.updates) botUpdates.push(...control.updates);
    if (control.failing) botFailing = control.failing;
    if (control.hanging) {
      botHanging = control.hanging;
      const held = botHeld.filter((h) => !botHanging.includes(h.method));
      botHeld = botHeld.filter((h) => botHanging.includes(h.method));
      for (const h of held) h.release();
    }
    if (control.limit) botLimits[control.limit.method] = { ...control.limit };
    return json(res, 200, { queued: botUpdates.length, failing: botFailing });
  }
  const bot = url.pathname.match(/^\/bot([^/]+)\/(\w+)$/);
  if (bot) {
    const raw = await readBody(req);
    let body = null;
    try { body = JSON.parse(raw); } catch { body = null; }
    const call = { key: `telegram:${bot[2]}`, at: Date.now(), body };
    calls.push(call);
    if (botHanging.includes(bot[2])) {
      call.hung = true;
      await new Promise((release) => botHeld.push({ method: bot[2], release }));
      if (res.destroyed || req.socket.destroyed) return;  // the caller gave up meanwhile
    }
    if (botFailing.includes(bot[2])) {
      call.failed = true;
      return json(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
    }
    const limit = botLimits[bot[2]];
    if (limit && limit.times > 0) {
      limit.times--;
      call.limited = true;
      return json(res, 429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${limit.retry_after}`, parameters: { retry_after: limit.retry_after } });
    }
    if (bot[2] === 'getUpdates' && botUpdates.length) {
      const result = botUpdates.filter((u) => u.update_id >= (body?.offset ?? 0));
      botUpdates = [];
      return json(res, 200, { ok: true, result });
    }
    if (bot[2] === 'sendMessage') {
      return json(res, 200, { ok: true, result: { message_id: 1000 + calls.length, chat: { id: body?.chat_id }, text: body?.text } });
    }
    if (bot[2] === 'editMessageText') return json(res, 200, { ok: true, result: { message_id: body?.message_id, text: body?.text } });
    if (bot[2] === 'getUpdates' && bot[1].includes('conflict')) {
      return json(res, 409, { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' });
    }
    if (bot[2] === 'getMe') return json(res, 200, { ok: true, result: { id: 4242, is_bot: true, username: 'FakeBot' } });
    return json(res, 200, { ok: true, result: [] });
  }
  json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
}

const server = tls ? https.createServer(tls, handle) : http.createServer(handle);
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
