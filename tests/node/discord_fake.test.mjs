// The fake Discord (discord_fake.mjs) is only as good as this check: the official client,
// @discordjs/ws with @discordjs/rest, connects to it, identifies, heartbeats, receives
// dispatches and resumes a dropped connection with the missed events replayed; raw
// connections and requests get Discord's refusals.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import WebSocket from 'ws';
import { startFakeDiscord, DEFAULT_TOKEN, BOT_ID } from './discord_fake.mjs';

const GUILDS = 1, GUILD_MESSAGES = 1 << 9, DIRECT_MESSAGES = 1 << 12, MESSAGE_CONTENT = 1 << 15;
let fake;
before(async () => { fake = await startFakeDiscord({ heartbeatInterval: 400 }); });
after(async () => { await fake.close(); });

const control = async (path, body = {}) => {
  const r = await fetch(`http://127.0.0.1:${fake.port}/__control/${path}`, { method: 'POST', body: JSON.stringify(body) });
  return r.json();
};
const until = async (check, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (check()) return; await new Promise((r) => setTimeout(r, 20)); }
  throw new Error('condition not met in time');
};
const once = (emitter, event, ms = 5000) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no ${event} in ${ms} ms`)), ms);
  emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
});

test('the official client identifies, heartbeats, gets dispatches and resumes a dropped connection', async () => {
  const rest = new REST({ api: `http://127.0.0.1:${fake.port}/api`, version: '10' }).setToken(DEFAULT_TOKEN);
  const manager = new WebSocketManager({
    token: DEFAULT_TOKEN, intents: GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT, rest,
  });
  const dispatches = [];
  manager.on(WebSocketShardEvents.Dispatch, (payload) => dispatches.push(payload));
  const ready = once(manager, WebSocketShardEvents.Ready);
  const beat = once(manager, WebSocketShardEvents.HeartbeatComplete);
  await manager.connect();
  const [data] = await ready;
  assert.equal(data.user.id, BOT_ID);
  assert.match(data.session_id, /^[0-9a-f]{32}$/);
  assert.match(data.resume_gateway_url, /\/resume$/);
  await beat;  // a heartbeat went out and its ACK came back

  const sent = await control('message', { channel_id: '1200000000000000001', content: 'hello from a user' });
  await until(() => dispatches.some((d) => d.t === 'MESSAGE_CREATE' && d.d.id === sent.id));
  assert.equal(dispatches.find((d) => d.d.id === sent.id).d.content, 'hello from a user');

  // The connection dies; a message sent meanwhile is replayed on the client's RESUME.
  const resumed = once(manager, WebSocketShardEvents.Resumed, 15000);
  await control('drop');
  const missed = await control('message', { channel_id: '1200000000000000001', content: 'sent while away' });
  assert.equal(missed.delivered_live, false);
  await resumed;
  await until(() => dispatches.some((d) => d.t === 'MESSAGE_CREATE' && d.d.id === missed.id));
  assert.equal(fake.state.resumes, 1);
  assert.equal(fake.state.identifies, 1);
  assert.ok(fake.state.replayed >= 1);
  await manager.destroy({ code: 1000 });
  assert.deepEqual(fake.state.refused, []);
});

test('a malformed IDENTIFY is closed with 4002, a wrong token with 4004', async () => {
  const url = `ws://127.0.0.1:${fake.port}/gateway?v=10&encoding=json`;
  const closeOf = (payload) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('message', (m) => { if (JSON.parse(String(m)).op === 10) ws.send(JSON.stringify(payload)); });
    ws.on('close', (code) => resolve(code));
  });
  assert.equal(await closeOf({ op: 2, d: { token: DEFAULT_TOKEN } }), 4002);  // no intents, no properties
  assert.equal(await closeOf({ op: 2, d: { token: 'wrong', intents: 1, properties: { os: 'l', browser: 'b', device: 'd' } } }), 4004);
  fake.state.refused.length = 0;
});

test('a connection whose heartbeat is late is closed', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${fake.port}/gateway?v=10&encoding=json`);
  ws.on('message', (m) => {
    if (JSON.parse(String(m)).op === 10) {
      ws.send(JSON.stringify({ op: 2, d: { token: DEFAULT_TOKEN, intents: 1, properties: { os: 'l', browser: 'b', device: 'd' } } }));
    }
  });
  const [code] = await once(ws, 'close', 10000);  // never beats
  assert.equal(code, 4009);
});

test('REST: over 2,000 characters is a 400 and a full bucket a 429 with retry_after', async () => {
  const post = (content, channel = '1200000000000000002') => fetch(`${fake.apiBase}/channels/${channel}/messages`, {
    method: 'POST', headers: { authorization: `Bot ${DEFAULT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content, allowed_mentions: { parse: [] } }),
  });
  const long = await post('x'.repeat(2001), '1200000000000000003');  // another bucket
  assert.equal(long.status, 400);
  assert.equal((await long.json()).code, 50035);
  fake.state.refused.length = 0;
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await post(`message ${i}`)).status);
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  const limited = await post('one more');
  assert.equal(limited.status, 429);
  const body = await limited.json();
  assert.equal(typeof body.retry_after, 'number');
  assert.equal(body.global, false);
  const unauthorized = await fetch(`${fake.apiBase}/gateway/bot`, { headers: { authorization: 'Bot nope' } });
  assert.equal(unauthorized.status, 401);
});
