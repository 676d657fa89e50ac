// A strict fake of Slack for the tests: the Web API methods the gateway calls and Socket Mode
// (apps.connections.open, then a WebSocket carrying envelopes that must be acknowledged). There
// is no Slack emulator to install; this one is checked against the official clients
// (@slack/socket-mode and @slack/web-api, slack_fake.test.mjs) before the gateway is tested
// against it.
//
// Strict where Slack is: apps.connections.open takes only the app-level token (xapp-) and the
// other methods only the bot token (xoxb-), else not_allowed_token_type / invalid_auth /
// not_authed; a WebSocket ticket opens one connection only (400 otherwise); an envelope not
// acknowledged within 3 s is sent again with a new envelope_id, retry_attempt + 1 and
// retry_reason "timeout", three times, then given up; after a `disconnect` message nothing more
// goes to that connection, which is closed 10 s later; a method past its per-channel rate answers
// 429 with Retry-After; text over 40,000 characters is msg_too_long, malformed blocks are
// invalid_blocks(_format); a response payload on an envelope that does not accept one is refused.
// Like Slack, the bot's own posts and edits come back as events (the gateway must ignore and
// acknowledge them).
//
// Tests drive it over POST /__control/* (messages, mentions, slash commands, button presses,
// disconnects, drops) and read what the bot did at /__control/state.
// Run: node slack_fake.mjs --port N [--ack-window MS] [--cert PEM --key PEM --tls-port N (https and wss)]
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { WebSocketServer } from 'ws';

export const BOT_TOKEN = 'xoxb-1111-2222-faketokenfortestsonly';
export const APP_TOKEN = 'xapp-1-A111-2222-faketokenfortestsonly';
export const BOT_USER = 'UBOT0001';
export const BOT_ID = 'BBOT0001';
export const TEAM = 'T0000001';
export const APP_ID = 'A0000001';
const MAX_TEXT = 40000;
const MAX_BLOCKS = 50;
const MAX_RETRIES = 3;
const RESPONSE_URL_USES = 5;
const BOT_METHODS = new Set(['auth.test', 'chat.postMessage', 'chat.update', 'chat.postEphemeral']);

// One clock for every ts: unique, increasing, Slack's "<secs>.<6 digits>".
let micros = 1700000000000000;
const nextTs = () => { micros += 100; return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`; };
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const eventId = () => `Ev${Array.from(crypto.randomBytes(10), (x) => ALNUM[x % 36]).join('')}`;
const triggerId = () => `${crypto.randomInt(1e9, 1e10)}.${crypto.randomInt(1e9, 1e10)}.${crypto.randomBytes(16).toString('hex')}`;
const channelType = (channel) => (channel.startsWith('D') ? 'im' : 'channel');
const badControl = (why) => Object.assign(new Error(why), { status: 400 });
const need = (b, key) => { if (b[key] === undefined || b[key] === '') throw badControl(`${key} is required`); return String(b[key]); };

export function startFakeSlack({ port = 0, botToken = BOT_TOKEN, appToken = APP_TOKEN, ackWindowMs = 3000, tls = null } = {}) {
  // tls: {cert, key, port}: the Web API and Socket Mode are also served over https/wss on that
  // port (named localhost), and what the fake hands out (socket and response URLs) points there;
  // the plain port keeps the control routes.
  const config = {
    ackWindowMs,
    rateLimitPerSec: { 'chat.postMessage': 5, 'chat.update': 5 },  // per method per channel, sliding 1 s
    forced429: [],          // [{method, retry_after}] answered once each
    notInChannel: [],       // chat.postMessage / postEphemeral there: not_in_channel
    channels: [],           // channels that exist before anyone wrote in them
    revokeAppToken: false,  // apps.connections.open answers invalid_auth
  };
  const outstanding = new Map();  // envelope_id -> {envelope, timer}: sent, not acknowledged yet
  const queued = [];              // envelopes waiting for a live connection
  const sockets = [];             // {ws, disconnecting, closeTimer}, oldest first
  const state = {
    connections: 0, opens: 0, limited: 0,
    messages: [],     // the bot's posts {channel, ts, thread_ts, text, blocks, edits, updates}
    ephemeral: [], responses: [], envelopes: [], acks: [], requests: [], refused: [], gaveUp: [],
    get live() { return liveSockets().length; },
    get pending() { return outstanding.size + queued.length; },
  };
  const tickets = new Set();
  const seenChannels = new Set();
  const responseUrls = new Map();  // id -> uses
  const windows = new Map();       // `${method} ${channel}` -> [accepted at]
  const expired = new Set();       // envelope ids retried or given up
  const refuse = (why) => { state.refused.push(why); };
  const base = () => tls ? `https://localhost:${secure.address().port}` : `http://127.0.0.1:${server.address().port}`;
  const knownChannel = (c) => seenChannels.has(c) || config.channels.includes(c) || config.notInChannel.includes(c);

  // --- Socket Mode -----------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true });
  const liveSockets = () => sockets.filter((s) => !s.disconnecting && s.ws.readyState === 1);

  function send(envelope) {  // to the newest live connection, or queued until one opens
    const target = liveSockets().at(-1);
    if (!target) { queued.push(envelope); return false; }
    target.ws.send(JSON.stringify(envelope));
    state.envelopes.push({ envelope_id: envelope.envelope_id, type: envelope.type,
      retry_attempt: envelope.retry_attempt, event_id: envelope.payload.event_id });
    outstanding.set(envelope.envelope_id, { envelope, timer: setTimeout(() => expire(envelope), config.ackWindowMs) });
    return true;
  }
  function expire(envelope) {
    outstanding.delete(envelope.envelope_id);
    expired.add(envelope.envelope_id);
    if (envelope.retry_attempt >= MAX_RETRIES) {
      state.gaveUp.push({ envelope_id: envelope.envelope_id, type: envelope.type, event_id: envelope.payload.event_id });
      return;
    }
    send({ ...envelope, envelope_id: crypto.randomUUID(), retry_attempt: envelope.retry_attempt + 1, retry_reason: 'timeout' });
  }
  function dispatch(type, payload, acceptsResponse = false) {
    const envelope = { envelope_id: crypto.randomUUID(), type, payload, accepts_response_payload: acceptsResponse,
      retry_attempt: 0, retry_reason: '' };
    return { envelope_id: envelope.envelope_id, delivered: send(envelope) };
  }
  function eventCallback(event) {
    const event_id = eventId();
    const sent = dispatch('events_api', {
      token: 'verification-token-unused', team_id: TEAM, api_app_id: APP_ID, event, type: 'event_callback',
      event_id, event_time: Math.floor(Date.now() / 1000), is_ext_shared_channel: false,
      authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
    });
    return { event_id, ...sent };
  }

  function acknowledge(data, isBinary) {
    let m;
    try { m = JSON.parse(String(data)); } catch { return refuse('a WebSocket message that is not JSON'); }
    if (isBinary) refuse('a binary WebSocket message');
    if (typeof m?.envelope_id !== 'string') return refuse('a WebSocket message without envelope_id');
    const id = m.envelope_id;
    const o = outstanding.get(id);
    if (!o) return refuse(expired.has(id) ? `a late ack for ${id}` : `an ack for unknown envelope ${id}`);
    clearTimeout(o.timer);
    outstanding.delete(id);
    const payload = m.payload && typeof m.payload === 'object' && Object.keys(m.payload).length ? m.payload : undefined;
    state.acks.push({ envelope_id: id, at: Date.now(), ...(payload ? { payload } : {}) });
    if (!payload) return;
    if (!o.envelope.accepts_response_payload) return refuse(`a response payload on a ${o.envelope.type} envelope`);
    if (typeof payload.text === 'string') state.responses.push({ id: `ack:${id}`, text: payload.text, response_type: payload.response_type });
  }

  wss.on('connection', (ws) => {
    const conn = { ws, disconnecting: false, closeTimer: null };
    sockets.push(conn);
    state.connections++;
    ws.send(JSON.stringify({ type: 'hello', num_connections: liveSockets().length,
      debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: APP_ID } }));
    for (const envelope of queued.splice(0)) send(envelope);
    ws.on('message', acknowledge);
    ws.on('close', () => { clearTimeout(conn.closeTimer); sockets.splice(sockets.indexOf(conn), 1); });
  });

  // --- Web API ---------------------------------------------------------------------------
  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = (req) => new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });
  const fail = (error) => ({ ok: false, error });

  function readBlocks(raw) {  // {blocks} (undefined: none given) or {error}
    if (raw === undefined || raw === '') return {};
    let blocks = raw;
    if (typeof raw === 'string') { try { blocks = JSON.parse(raw); } catch { return { error: 'invalid_blocks_format' }; } }
    if (!Array.isArray(blocks)) return { error: 'invalid_blocks_format' };
    if (blocks.length > MAX_BLOCKS || !blocks.every((b) => typeof b?.type === 'string')) return { error: 'invalid_blocks' };
    return { blocks };
  }
  function content(args, required = true) {  // {text, blocks} or {error}
    const { blocks, error } = readBlocks(args.blocks);
    if (error) return { error };
    const text = args.text === undefined ? undefined : String(args.text);
    if (required && !text && !blocks?.length) return { error: 'no_text' };
    if (text && [...text].length > MAX_TEXT) return { error: 'msg_too_long' };
    return { text, blocks };
  }
  function postable(channel) {
    if (channel && config.notInChannel.includes(channel)) return 'not_in_channel';
    return channel && knownChannel(channel) ? null : 'channel_not_found';
  }
  function rateLimited(method, channel) {  // the Retry-After in seconds, or 0
    const f = config.forced429.findIndex((x) => x.method === method);
    if (f >= 0) return config.forced429.splice(f, 1)[0].retry_after ?? 1;
    const limit = config.rateLimitPerSec[method];
    if (!limit) return 0;
    const key = `${method} ${channel ?? ''}`;
    const now = Date.now();
    const recent = (windows.get(key) ?? []).filter((t) => now - t < 1000);
    windows.set(key, recent);
    if (recent.length >= limit) return 1;  // every accepted call leaves the window within 1 s
    recent.push(now);
    return 0;
  }

  const publicMessage = (m) => ({ type: 'message', user: BOT_USER, bot_id: BOT_ID, app_id: APP_ID, team: TEAM, text: m.text,
    ts: m.ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ...(m.blocks ? { blocks: m.blocks } : {}) });

  const methods = {
    'auth.test': () => ({ ok: true, url: 'https://fake.slack.com/', team: 'fake', user: 'hermes', team_id: TEAM,
      user_id: BOT_USER, bot_id: BOT_ID, is_enterprise_install: false }),
    'apps.connections.open': () => {
      state.opens++;
      const ticket = crypto.randomUUID();
      tickets.add(ticket);
      const socketBase = base().replace(/^http/, 'ws');
      return { ok: true, url: `${socketBase}/link/?ticket=${ticket}&app_id=${APP_ID}` };
    },
    'chat.postMessage': (args) => {
      const no = postable(args.channel);
      if (no) return fail(no);
      const c = content(args);
      if (c.error) return fail(c.error);
      const m = { channel: args.channel, ts: nextTs(), thread_ts: args.thread_ts ? String(args.thread_ts) : null,
        text: c.text ?? '', blocks: c.blocks ?? null, edits: 0, updates: [] };
      state.messages.push(m);
      eventCallback({ ...publicMessage(m), channel: m.channel, event_ts: m.ts, channel_type: channelType(m.channel) });
      return { ok: true, channel: m.channel, ts: m.ts, message: publicMessage(m) };
    },
    'chat.update': (args) => {
      if (!args.channel || !knownChannel(args.channel)) return fail('channel_not_found');
      const m = state.messages.find((x) => x.channel === args.channel && x.ts === args.ts);
      if (!m) return fail('message_not_found');
      const c = content(args);
      if (c.error) return fail(c.error);
      const previous = publicMessage(m);
      if (c.text !== undefined) m.text = c.text;
      if (c.blocks !== undefined) m.blocks = c.blocks;
      m.edits++;
      m.updates.push(m.text);
      const ts = nextTs();
      eventCallback({ type: 'message', subtype: 'message_changed', hidden: true, channel: m.channel, ts, event_ts: ts,
        channel_type: channelType(m.channel), message: { ...publicMessage(m), edited: { user: BOT_USER, ts } },
        previous_message: previous });
      return { ok: true, channel: m.channel, ts: m.ts, text: m.text, message: publicMessage(m) };
    },
    'chat.postEphemeral': (args) => {
      const no = postable(args.channel);
      if (no) return fail(no);
      if (!args.user) return fail('user_not_found');
      const c = content(args);
      if (c.error) return fail(c.error);
      state.ephemeral.push({ channel: args.channel, user: String(args.user), text: c.text ?? '', blocks: c.blocks ?? null,
        thread_ts: args.thread_ts ?? null });
      return { ok: true, message_ts: nextTs() };
    },
  };

  async function api(req, res, method, url) {
    state.requests.push({ method, at: Date.now() });
    const text = await readBody(req);
    const isJson = (req.headers['content-type'] ?? '').split(';')[0].trim() === 'application/json';
    const args = Object.fromEntries(url.searchParams);
    try {
      Object.assign(args, isJson ? (text ? JSON.parse(text) : {}) : Object.fromEntries(new URLSearchParams(text)));
    } catch { return json(res, 200, fail('invalid_json')); }
    if (!methods[method]) return json(res, 200, fail('unknown_method'));
    // A token in a JSON body is ignored by Slack: JSON requests carry it in the header.
    const header = req.headers.authorization;
    const token = header ? (header.startsWith('Bearer ') ? header.slice(7) : '') : (isJson ? '' : args.token ?? '');
    const wanted = method === 'apps.connections.open' ? appToken : botToken;
    if (!token) return json(res, 200, fail('not_authed'));
    if (token === appToken && config.revokeAppToken) return json(res, 200, fail('invalid_auth'));
    if (token !== wanted) return json(res, 200, fail(token === botToken || token === appToken ? 'not_allowed_token_type' : 'invalid_auth'));
    const retryAfter = rateLimited(method, args.channel);
    if (retryAfter) {
      state.limited++;
      return json(res, 429, fail('ratelimited'), { 'retry-after': String(retryAfter) });
    }
    return json(res, 200, methods[method](args));
  }

  // response_url of slash commands and button presses: JSON, five uses.
  async function respond(req, res, id) {
    const text = await readBody(req);
    if (!responseUrls.has(id)) { refuse(`a post to unknown response_url ${id}`); return json(res, 404, fail('expired_url')); }
    let body;
    try { body = JSON.parse(text); } catch { refuse('a response_url post that is not JSON'); return json(res, 400, fail('invalid_payload')); }
    const uses = responseUrls.get(id) + 1;
    if (uses > RESPONSE_URL_USES) { refuse(`response_url ${id} used ${uses} times`); return json(res, 404, fail('used_url')); }
    responseUrls.set(id, uses);
    if (!body?.text && !body?.blocks?.length) { refuse('a response_url post without text'); return json(res, 200, fail('no_text')); }
    state.responses.push({ id, text: body.text ?? '', response_type: body.response_type ?? 'ephemeral' });
    return json(res, 200, { ok: true });
  }
  const newResponseUrl = () => {
    const id = crypto.randomBytes(8).toString('hex');
    responseUrls.set(id, 0);
    return `${base()}/response/${id}`;
  };

  // --- control: what users and Slack do, and what the bot did ------------------------------
  const controls = {
    state: () => state,
    config: (b) => Object.assign(config, b, { rateLimitPerSec: { ...config.rateLimitPerSec, ...b.rateLimitPerSec } }),
    message: (b) => {
      const channel = need(b, 'channel');
      seenChannels.add(channel);
      const ts = nextTs();
      const event = { type: 'message', channel, user: b.user ?? 'UUSER001', text: b.text ?? '', ts, team: TEAM,
        channel_type: b.channel_type ?? channelType(channel), event_ts: ts };
      for (const k of ['thread_ts', 'files', 'subtype', 'bot_id']) if (b[k] !== undefined) event[k] = b[k];
      const sent = eventCallback(event);
      return { ts, event_id: sent.event_id, envelope_id: sent.envelope_id, delivered: sent.delivered };
    },
    mention: (b) => {
      const channel = need(b, 'channel');
      seenChannels.add(channel);
      const ts = nextTs();
      const common = { channel, user: b.user ?? 'UUSER001', text: b.text ?? `<@${BOT_USER}>`, ts, team: TEAM, event_ts: ts,
        ...(b.thread_ts ? { thread_ts: b.thread_ts } : {}) };
      const sent = [eventCallback({ type: 'app_mention', ...common })];
      if (b.also_message) sent.push(eventCallback({ type: 'message', ...common, channel_type: 'channel' }));
      return { ts, event_ids: sent.map((s) => s.event_id), envelope_ids: sent.map((s) => s.envelope_id),
        delivered: sent.every((s) => s.delivered) };
    },
    slash: (b) => {
      const channel = need(b, 'channel');
      seenChannels.add(channel);
      const response_url = newResponseUrl();
      const sent = dispatch('slash_commands', {
        token: 'verification-token-unused', team_id: TEAM, team_domain: 'fake', channel_id: channel,
        channel_name: b.channel_name ?? 'chan', user_id: b.user ?? 'UUSER001', user_name: 'tester',
        command: b.command ?? '/hermes', text: b.text ?? '', api_app_id: APP_ID, is_enterprise_install: 'false',
        response_url, trigger_id: triggerId(),
      }, true);
      return { envelope_id: sent.envelope_id, response_url, delivered: sent.delivered };
    },
    press: (b) => {
      const channel = need(b, 'channel');
      const message_ts = need(b, 'message_ts');
      const action_id = need(b, 'action_id');
      const m = state.messages.find((x) => x.channel === channel && x.ts === message_ts);
      const block_id = b.block_id ?? m?.blocks?.find((x) => x.elements?.some((e) => e.action_id === action_id))?.block_id ?? 'actions';
      const user = b.user ?? 'UUSER001';
      const response_url = newResponseUrl();
      const sent = dispatch('interactive', {
        type: 'block_actions', user: { id: user, username: 'tester', name: 'tester', team_id: TEAM }, api_app_id: APP_ID,
        token: 'verification-token-unused', team: { id: TEAM, domain: 'fake' }, trigger_id: triggerId(),
        container: { type: 'message', message_ts, channel_id: channel, is_ephemeral: false },
        channel: { id: channel, name: 'chan' },
        message: { type: 'message', user: BOT_USER, bot_id: BOT_ID, ts: message_ts, text: m?.text ?? '', blocks: m?.blocks ?? [],
          ...(m?.thread_ts ? { thread_ts: m.thread_ts } : {}) },
        state: { values: {} }, response_url,
        actions: [{ action_id, block_id, value: b.value, type: 'button', action_ts: nextTs() }],
      });
      return { envelope_id: sent.envelope_id, response_url, delivered: sent.delivered };
    },
    disconnect: (b) => {  // Slack asks the client to reconnect; nothing more goes to this connection
      const conn = liveSockets().at(-1);
      if (!conn) return { sent: false };
      conn.ws.send(JSON.stringify({ type: 'disconnect', reason: b.reason ?? 'refresh_requested', debug_info: { host: 'fake' } }));
      conn.disconnecting = true;
      conn.closeTimer = setTimeout(() => conn.ws.close(1001, 'disconnect'), b.closeAfterMs ?? 10000);
      return { sent: true };
    },
    drop: () => {  // every connection dies without a close frame
      for (const s of sockets) s.ws.terminate();
      return {};
    },
    reset: () => {
      for (const key of ['messages', 'ephemeral', 'responses', 'envelopes', 'acks', 'requests', 'refused', 'gaveUp']) state[key].length = 0;
      for (const o of outstanding.values()) clearTimeout(o.timer);
      outstanding.clear();
      queued.length = 0;
      expired.clear();
      windows.clear();
      state.limited = 0;
      return {};
    },
  };

  async function control(req, res, name) {
    const text = await readBody(req);
    if (!Object.hasOwn(controls, name)) return json(res, 404, { error: 'no such control' });
    let b;
    try { b = text ? JSON.parse(text) : {}; } catch { return json(res, 400, { error: 'not JSON' }); }
    try { return json(res, 200, controls[name](b ?? {})); } catch (e) { return json(res, e.status ?? 500, { error: e.message }); }
  }

  const serve = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    const handler = req.method === 'POST' && path.startsWith('/__control/') ? control(req, res, path.slice('/__control/'.length))
      : path.startsWith('/api/') ? api(req, res, path.slice('/api/'.length), url)
        : req.method === 'POST' && path.startsWith('/response/') ? respond(req, res, path.slice('/response/'.length))
          : Promise.resolve(json(res, 404, fail('not_found')));
    handler.catch((e) => { if (!res.headersSent) json(res, 500, { error: String(e) }); });
  };
  const server = http.createServer(serve);
  const secure = tls ? https.createServer({ cert: tls.cert, key: tls.key }, serve) : null;
  const upgrade = (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const ticket = url.searchParams.get('ticket');
    if (url.pathname !== '/link/' || !tickets.has(ticket)) {
      refuse(`a Socket Mode connection to ${url.pathname} with ${ticket ? 'a used or unknown' : 'no'} ticket`);
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    tickets.delete(ticket);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', upgrade);
  if (secure) {
    secure.on('upgrade', upgrade);
    secure.listen(tls.port ?? 0, '127.0.0.1');
  }
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({
      port: server.address().port, state, config,
      apiUrl: `${base()}/api/`,
      close: () => new Promise((done) => {
        for (const o of outstanding.values()) clearTimeout(o.timer);
        for (const s of sockets) { clearTimeout(s.closeTimer); s.ws.terminate(); }
        secure?.close();
        secure?.closeAllConnections();
        server.close(() => done());
        server.closeAllConnections();
      }),
    }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
  const cert = arg('--cert', null);
  const tls = cert ? { cert: fs.readFileSync(cert), key: fs.readFileSync(arg('--key', '')), port: Number(arg('--tls-port', 0)) } : null;
  const fake = await startFakeSlack({ port: Number(arg('--port', 0)), ackWindowMs: Number(arg('--ack-window', 3000)), tls });
  process.stderr.write(`fake slack listening on ${fake.port}\n`);
}
