// A strict fake of Discord for the tests: the Gateway (WebSocket, API v10, JSON) and the REST
// routes the gateway uses. There is no Discord emulator to install; this one is checked
// against the official client (@discordjs/ws, discord_fake.test.mjs) before the gateway is
// tested against it.
//
// Strict where Discord is: a malformed IDENTIFY closes with 4002, a wrong token with 4004,
// refused intents with 4014, a connection whose heartbeat is late is closed (4009), a bucket
// past its limit answers 429 with retry_after, content over 2,000 characters is a 400, an
// interaction answered after 3 s is gone (10062). Sessions survive dropped connections and
// closes other than 1000/1001, and RESUME replays what was dispatched meanwhile.
//
// Tests drive it over /__control/* (messages from users, interactions, drops) and read what
// the bot did at GET /__control/state. Run: node discord_fake.mjs --port N [--token T]
import http from 'node:http';
import crypto from 'node:crypto';
import { WebSocketServer } from 'ws';

export const BOT_ID = '1100000000000000001';
export const APP_ID = '1100000000000000001';
export const DEFAULT_TOKEN = 'MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.discord-token-for-tests-only';
const MAX_CONTENT = 2000;
const INTERACTION_WINDOW_MS = 3000;

let nextSnowflake = 1300000000000000000n;
const snowflake = () => String(++nextSnowflake);

export function startFakeDiscord({ port = 0, token = DEFAULT_TOKEN, heartbeatInterval = 41250 } = {}) {
  const config = {
    heartbeatInterval,
    rejectIntents: false,   // close 4014 at IDENTIFY (the Message Content intent is off)
    ackHeartbeats: true,    // false: a zombie connection (no ACKs)
    bucketLimit: 5,         // requests per bucket per window
    bucketWindowMs: 1000,
    forced429: [],          // [{method, pathPrefix, retry_after}] answered once each
  };
  const state = {
    identifies: 0, resumes: 0, replayed: 0, connections: 0, closes: [], refused: [],
    messages: [],           // every message the bot created: {id, channel_id, content, edits, ...}
    requests: [],           // [{method, path, at}]
    limited: 0,             // 429s answered
    callbacks: [],          // interaction callbacks {id, type, data}
    originals: [],          // deferred answers filled in {id, content}
    commands: null,
    typing: 0,
  };
  const sessions = new Map();  // session_id -> {seq, events: [], socket, resumable}
  const buckets = new Map();   // route -> {count, resetAt}
  const interactions = new Map();  // id -> {token, at, answered, original}
  const refuse = (why) => { state.refused.push(why); };

  // --- the Gateway -----------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true });
  const send = (socket, payload) => { if (socket.readyState === 1) socket.send(JSON.stringify(payload)); };

  function dispatch(session, t, d) {
    const s = ++session.seq;
    session.events.push({ s, t, d });
    if (session.socket && session.live) send(session.socket, { op: 0, s, t, d });
  }
  const current = () => [...sessions.values()].find((x) => x.resumable) ?? null;

  function ready(socket, session) {
    session.socket = socket;
    session.live = true;
    dispatch(session, 'READY', {
      v: 10, user: { id: BOT_ID, username: 'hermes', bot: true, discriminator: '0' },
      guilds: [], session_id: session.id,
      resume_gateway_url: `ws://127.0.0.1:${server.address().port}/resume`,
      shard: [0, 1], application: { id: APP_ID, flags: 0 },
    });
  }

  function identify(socket, d) {
    const props = d?.properties;
    if (typeof d?.token !== 'string' || !Number.isInteger(d?.intents) || typeof props !== 'object' ||
        props === null || !['os', 'browser', 'device'].every((k) => typeof props[k] === 'string')) {
      refuse('malformed IDENTIFY');
      return socket.close(4002, 'Error while decoding payload.');
    }
    if (d.token !== token) return socket.close(4004, 'Authentication failed.');
    if (config.rejectIntents && (d.intents & (1 << 15))) return socket.close(4014, 'Disallowed intent(s).');
    for (const old of sessions.values()) old.resumable = false;  // one session per bot here
    state.identifies++;
    const session = { id: crypto.randomBytes(16).toString('hex'), seq: 0, events: [], resumable: true };
    sessions.set(session.id, session);
    socket.session = session;
    ready(socket, session);
  }

  function resume(socket, d) {
    if (typeof d?.token !== 'string' || typeof d?.session_id !== 'string' || !Number.isInteger(d?.seq)) {
      refuse('malformed RESUME');
      return socket.close(4002, 'Error while decoding payload.');
    }
    if (d.token !== token) return socket.close(4004, 'Authentication failed.');
    const session = sessions.get(d.session_id);
    if (!session || !session.resumable || d.seq > session.seq) {
      return send(socket, { op: 9, d: false });  // the client identifies afresh
    }
    if (session.socket && session.socket !== socket) session.socket.terminate();
    state.resumes++;
    socket.session = session;
    session.socket = socket;
    for (const e of session.events.filter((x) => x.s > d.seq)) {
      send(socket, { op: 0, s: e.s, t: e.t, d: e.d });
      state.replayed++;
    }
    session.live = true;
    dispatch(session, 'RESUMED', {});
  }

  wss.on('connection', (socket) => {
    state.connections++;
    let lastBeat = Date.now();
    let started = false;
    send(socket, { op: 10, d: { heartbeat_interval: config.heartbeatInterval } });
    // Late heartbeats: Discord closes the connection (the session may still be resumed).
    const watch = setInterval(() => {
      if (Date.now() - lastBeat > config.heartbeatInterval * 1.5 + 1000) {
        state.closes.push({ by: 'fake', code: 4009, why: 'heartbeat late' });
        socket.close(4009, 'Session timed out.');
      }
    }, Math.min(500, config.heartbeatInterval / 4));
    socket.on('message', (data) => {
      let payload;
      try { payload = JSON.parse(String(data)); } catch { refuse('not JSON'); return socket.close(4002, 'Error while decoding payload.'); }
      if (!Number.isInteger(payload?.op)) { refuse('no op'); return socket.close(4001, 'Unknown opcode.'); }
      if (payload.op === 1) {
        lastBeat = Date.now();
        if (config.ackHeartbeats) send(socket, { op: 11 });
        return;
      }
      if (payload.op === 2 || payload.op === 6) {
        if (started) { refuse('second IDENTIFY/RESUME'); return socket.close(4005, 'Already authenticated.'); }
        started = true;
        return payload.op === 2 ? identify(socket, payload.d) : resume(socket, payload.d);
      }
      if (!started) { refuse(`op ${payload.op} before IDENTIFY`); return socket.close(4003, 'Not authenticated.'); }
    });
    socket.on('close', (code) => {
      clearInterval(watch);
      state.closes.push({ by: 'client', code });
      const session = socket.session;
      if (!session || session.socket !== socket) return;
      session.live = false;
      session.socket = null;
      if (code === 1000 || code === 1001) session.resumable = false;  // Discord's rule
    });
  });

  // --- REST ------------------------------------------------------------------------------
  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const readBody = (req) => new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });

  function route(method, path) {
    const m = path.match(/^(\/channels\/\d+\/messages)\/\d+$/);
    return `${method} ${m ? `${m[1]}/:id` : path}`;
  }

  // Discord's buckets: bucketLimit requests per window, then 429 until the window resets.
  function rateLimit(method, path, res) {
    const forced = config.forced429.findIndex((f) => f.method === method && path.startsWith(f.pathPrefix));
    if (forced >= 0) {
      const [f] = config.forced429.splice(forced, 1);
      state.limited++;
      json(res, 429, { message: 'You are being rate limited.', retry_after: f.retry_after, global: false },
        { 'retry-after': String(Math.ceil(f.retry_after)), 'x-ratelimit-scope': 'user' });
      return false;
    }
    const key = route(method, path);
    const now = Date.now();
    let b = buckets.get(key);
    if (!b || now >= b.resetAt) { b = { count: 0, resetAt: now + config.bucketWindowMs }; buckets.set(key, b); }
    const resetAfter = (b.resetAt - now) / 1000;
    if (b.count >= config.bucketLimit) {
      state.limited++;
      json(res, 429, { message: 'You are being rate limited.', retry_after: resetAfter, global: false },
        { 'retry-after': String(Math.ceil(resetAfter)), 'x-ratelimit-scope': 'user' });
      return false;
    }
    b.count++;
    res.rateHeaders = {
      'x-ratelimit-limit': String(config.bucketLimit), 'x-ratelimit-remaining': String(config.bucketLimit - b.count),
      'x-ratelimit-reset-after': resetAfter.toFixed(3), 'x-ratelimit-bucket': crypto.createHash('md5').update(key).digest('hex'),
    };
    return true;
  }

  function checkMessageBody(body, res) {
    if (typeof body?.content !== 'string' || (body.content.length === 0 && !body.components?.length)) {
      json(res, 400, { message: 'Cannot send an empty message', code: 50006 });
      return false;
    }
    if ([...body.content].length > MAX_CONTENT) {
      refuse(`content of ${[...body.content].length} characters`);
      json(res, 400, { message: 'Invalid Form Body', code: 50035,
        errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } });
      return false;
    }
    if (!Array.isArray(body.allowed_mentions?.parse) || body.allowed_mentions.parse.length !== 0) {
      refuse('a message without allowed_mentions {parse: []}');
    }
    return true;
  }

  function botMessage(channelId, body) {
    const message = {
      id: snowflake(), channel_id: channelId, type: body.message_reference ? 19 : 0, content: body.content,
      author: { id: BOT_ID, username: 'hermes', bot: true }, mentions: [], attachments: [], embeds: [],
      components: body.components ?? [], timestamp: new Date().toISOString(),
      message_reference: body.message_reference, created: Date.now(), edits: [],
    };
    state.messages.push(message);
    const session = current();
    if (session) dispatch(session, 'MESSAGE_CREATE', publicMessage(message));  // Discord echoes it
    return message;
  }
  const publicMessage = ({ created, edits, ...rest }) => rest;

  async function rest(req, res, path) {
    const method = req.method;
    const auth = req.headers.authorization;
    const open = path.startsWith('/interactions/') || path.startsWith('/webhooks/');
    if (!open && auth !== `Bot ${token}`) return json(res, 401, { message: '401: Unauthorized', code: 0 });
    state.requests.push({ method, path, at: Date.now() });
    if (!rateLimit(method, path, res)) return;
    const text = await readBody(req);
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch { return json(res, 400, { message: 'Invalid JSON', code: 50109 }); }
    }
    const headers = res.rateHeaders;
    let m;
    if (method === 'GET' && path === '/gateway/bot') {
      return json(res, 200, { url: `ws://127.0.0.1:${server.address().port}/gateway`, shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 } }, headers);
    }
    if (method === 'POST' && (m = path.match(/^\/channels\/(\d+)\/messages$/))) {
      if (!checkMessageBody(body, res)) return;
      return json(res, 200, publicMessage(botMessage(m[1], body)), headers);
    }
    if (method === 'PATCH' && (m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      const message = state.messages.find((x) => x.id === m[2] && x.channel_id === m[1]);
      if (!message) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      if (!checkMessageBody(body, res)) return;
      message.content = body.content;
      if (body.components) message.components = body.components;
      message.edits.push({ at: Date.now(), content: body.content });
      const session = current();
      if (session) dispatch(session, 'MESSAGE_UPDATE', publicMessage(message));
      return json(res, 200, publicMessage(message), headers);
    }
    if (method === 'POST' && (m = path.match(/^\/channels\/(\d+)\/typing$/))) {
      state.typing++;
      return json(res, 204, undefined, headers);
    }
    if (method === 'PUT' && path === `/applications/${APP_ID}/commands`) {
      if (!Array.isArray(body) || !body.every((c) => /^[-_a-z0-9]{1,32}$/.test(c?.name ?? '') &&
          typeof c.description === 'string' && c.description.length >= 1 && c.description.length <= 100)) {
        refuse('malformed application commands');
        return json(res, 400, { message: 'Invalid Form Body', code: 50035 });
      }
      state.commands = body;
      return json(res, 200, body.map((c) => ({ ...c, id: snowflake(), application_id: APP_ID })), headers);
    }
    if (method === 'POST' && (m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) {
      const it = interactions.get(m[1]);
      if (!it || it.token !== m[2]) return json(res, 404, { message: 'Unknown interaction', code: 10062 });
      if (it.answered) return json(res, 400, { message: 'Interaction has already been acknowledged.', code: 40060 });
      if (Date.now() - it.at > INTERACTION_WINDOW_MS) {
        refuse('an interaction answered after 3 s');
        return json(res, 404, { message: 'Unknown interaction', code: 10062 });
      }
      if (![4, 5, 6, 7].includes(body?.type)) return json(res, 400, { message: 'Invalid Form Body', code: 50035 });
      it.answered = true;
      state.callbacks.push({ id: m[1], type: body.type, data: body.data ?? null });
      return json(res, 204, undefined, headers);
    }
    if (method === 'PATCH' && (m = path.match(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/))) {
      const it = [...interactions.entries()].find(([, x]) => x.token === m[2]);
      if (m[1] !== APP_ID || !it || !it[1].answered) return json(res, 404, { message: 'Unknown Webhook', code: 10015 });
      if (!checkMessageBody(body, res)) return;
      const message = it[1].original ?? botMessage(it[1].channel_id, { ...body, message_reference: undefined });
      message.content = body.content;
      message.interaction_id = it[0];
      it[1].original = message;
      state.originals.push({ id: it[0], content: body.content });
      return json(res, 200, publicMessage(message), headers);
    }
    return json(res, 404, { message: '404: Not Found', code: 0 });
  }

  // --- control: what users do, and what the bot did ----------------------------------------
  function userMessage(b) {
    const author = { id: String(b.author_id ?? '1234567890123456789'), username: b.username ?? 'tester', bot: false };
    const message = {
      id: snowflake(), channel_id: String(b.channel_id), type: b.reply_to ? 19 : 0, content: b.content ?? '',
      author, mentions: (b.mentions ?? []).map((id) => ({ id: String(id), username: id === BOT_ID ? 'hermes' : 'someone' })),
      mention_everyone: false, attachments: b.attachments ?? [], embeds: [], sticker_items: b.sticker_items,
      timestamp: new Date().toISOString(),
    };
    if (b.guild_id) message.guild_id = String(b.guild_id);
    if (b.reply_to) {
      const to = state.messages.find((x) => x.id === b.reply_to);
      message.referenced_message = to ? publicMessage(to) : null;
      message.message_reference = { message_id: b.reply_to, channel_id: message.channel_id };
    }
    return message;
  }

  async function control(req, res, path) {
    const text = await readBody(req);
    const b = text ? JSON.parse(text) : {};
    const session = current();
    if (path === '/__control/state') {
      return json(res, 200, { ...state, sessions: sessions.size, config, live: Boolean(session?.live) });
    }
    if (path === '/__control/config') { Object.assign(config, b); return json(res, 200, config); }
    if (path === '/__control/message') {
      if (!session) return json(res, 409, { error: 'no session' });
      const message = userMessage(b);
      dispatch(session, 'MESSAGE_CREATE', message);
      return json(res, 200, { id: message.id, delivered_live: Boolean(session.live) });
    }
    if (path === '/__control/thread') {
      if (!session) return json(res, 409, { error: 'no session' });
      dispatch(session, 'THREAD_CREATE', { id: String(b.id), parent_id: String(b.parent_id), guild_id: String(b.guild_id), type: 11, name: 'thread' });
      return json(res, 200, {});
    }
    if (path === '/__control/interaction') {
      if (!session) return json(res, 409, { error: 'no session' });
      const id = snowflake();
      const itoken = `itoken-${crypto.randomBytes(8).toString('hex')}`;
      const user = { id: String(b.user_id), username: b.username ?? 'tester' };
      const d = { id, application_id: APP_ID, type: b.type, token: itoken, version: 1, channel_id: String(b.channel_id),
        data: b.type === 2 ? { id: snowflake(), name: b.name, type: 1 } : { custom_id: b.custom_id, component_type: 2 } };
      if (b.guild_id) { d.guild_id = String(b.guild_id); d.member = { user }; } else { d.user = user; }
      if (b.message_id) d.message = publicMessage(state.messages.find((x) => x.id === b.message_id) ?? { id: b.message_id });
      interactions.set(id, { token: itoken, at: Date.now(), answered: false, channel_id: String(b.channel_id) });
      dispatch(session, 'INTERACTION_CREATE', d);
      return json(res, 200, { id, token: itoken });
    }
    if (path === '/__control/drop') {  // the connection dies without a close frame
      if (session?.socket) { session.live = false; session.socket.terminate(); }
      return json(res, 200, {});
    }
    if (path === '/__control/close') {  // Discord closes the connection with a code
      if (session?.socket) session.socket.close(b.code ?? 4000, 'closed by the test');
      if (b.code === 4007 || b.code === 4009 || b.code === 1000) session.resumable = false;
      return json(res, 200, {});
    }
    if (path === '/__control/invalidate') {  // Discord forgets the session; the connection drops
      if (session) { session.resumable = false; session.socket?.terminate(); }
      return json(res, 200, {});
    }
    if (path === '/__control/reconnect') {  // op 7
      if (session?.socket) send(session.socket, { op: 7, d: null });
      return json(res, 200, {});
    }
    return json(res, 404, { error: 'no such control' });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    const handler = path.startsWith('/__control/') ? control(req, res, path)
      : path.startsWith('/api/v10/') ? rest(req, res, path.slice('/api/v10'.length))
        : Promise.resolve(json(res, 404, { message: '404: Not Found', code: 0 }));
    handler.catch((e) => { if (!res.headersSent) json(res, 500, { error: String(e) }); });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const ok = (url.pathname === '/gateway' || url.pathname === '/resume' || url.pathname === '/gateway/' || url.pathname === '/resume/') &&
      url.searchParams.get('v') === '10' && url.searchParams.get('encoding') === 'json';
    if (!ok) {
      refuse(`a Gateway connection to ${req.url}`);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({
      port: server.address().port, state, config, sessions,
      apiBase: `http://127.0.0.1:${server.address().port}/api/v10`,
      close: () => new Promise((done) => { for (const c of wss.clients) c.terminate(); server.close(done); }),
    }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
  const fake = await startFakeDiscord({ port: Number(arg('--port', 0)), token: arg('--token', DEFAULT_TOKEN),
    heartbeatInterval: Number(arg('--heartbeat', 41250)) });
  process.stderr.write(`fake discord listening on ${fake.port}\n`);
}
