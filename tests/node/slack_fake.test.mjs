// The fake Slack (slack_fake.mjs) is only as good as this check: the official clients,
// @slack/socket-mode and @slack/web-api, open a Socket Mode connection to it, receive and
// acknowledge envelopes (an unacknowledged one comes back as a retry), reconnect when asked to,
// post, edit, wait out a 429 and get Slack's errors; raw connections and requests get Slack's
// refusals.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { SocketModeClient, LogLevel } from '@slack/socket-mode';
import { WebClient, WebAPIPlatformError, WebClientEvent } from '@slack/web-api';
import WebSocket from 'ws';
import { startFakeSlack, APP_TOKEN, BOT_TOKEN, BOT_USER, BOT_ID, APP_ID } from './slack_fake.mjs';

let fake;
before(async () => { fake = await startFakeSlack(); });
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
const webClient = (token = BOT_TOKEN) => new WebClient(token, {
  slackApiUrl: fake.apiUrl, logLevel: LogLevel.ERROR, retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 50 },
});
const platformError = (error) => (e) => e instanceof WebAPIPlatformError && e.data.error === error;

test('the official Socket Mode client connects, acknowledges, gets retries and reconnects on disconnect', async () => {
  await control('config', { ackWindowMs: 300 });
  // clientPingTimeout also sets how long the client waits before reconnecting (1 s here, 5 s by default).
  const client = new SocketModeClient({
    appToken: APP_TOKEN, logLevel: LogLevel.ERROR, clientPingTimeout: 1000,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 1, minTimeout: 50 } },
  });
  const events = [];
  client.on('message', async (e) => {
    events.push(e);
    if (e.event.text !== 'not acknowledged' || e.retry_num >= 1) await e.ack();
  });
  await client.start();  // apps.connections.open, then the WebSocket until hello
  assert.equal(fake.state.opens, 1);
  assert.equal(fake.state.live, 1);

  const first = await control('message', { channel: 'C0000001', text: 'hello from a user' });
  assert.equal(first.delivered, true);
  await until(() => fake.state.acks.some((a) => a.envelope_id === first.envelope_id));
  const got = events.find((e) => e.body.event_id === first.event_id);
  assert.equal(got.envelope_id, first.envelope_id);
  assert.equal(got.event.text, 'hello from a user');
  assert.equal(got.event.channel_type, 'channel');
  assert.equal(got.retry_num, 0);
  assert.equal(got.body.authorizations[0].user_id, BOT_USER);

  // Not acknowledged: sent again with a new envelope_id, retry_attempt 1 and the same event_id.
  const unacked = await control('message', { channel: 'D0000001', text: 'not acknowledged' });
  await until(() => events.some((e) => e.body.event_id === unacked.event_id && e.retry_num === 1));
  const retry = events.find((e) => e.body.event_id === unacked.event_id && e.retry_num === 1);
  assert.notEqual(retry.envelope_id, unacked.envelope_id);
  assert.equal(retry.retry_reason, 'timeout');
  assert.equal(retry.event.channel_type, 'im');
  await until(() => fake.state.acks.some((a) => a.envelope_id === retry.envelope_id));
  assert.deepEqual(fake.state.envelopes.filter((e) => e.event_id === unacked.event_id).map((e) => e.retry_attempt), [0, 1]);

  // The bot's own post comes back as an event.
  const posted = await webClient().chat.postMessage({ channel: 'C0000001', text: 'from the bot',
    blocks: [{ type: 'actions', block_id: 'b1', elements: [{ type: 'button', action_id: 'approve', value: 'yes', text: { type: 'plain_text', text: 'Yes' } }] }] });
  await until(() => events.some((e) => e.event.ts === posted.ts));
  const echo = events.find((e) => e.event.ts === posted.ts).event;
  assert.equal(echo.bot_id, BOT_ID);
  assert.equal(echo.user, BOT_USER);

  // A slash command answered in the ack, a button press on the bot's message.
  const slashes = [];
  client.on('slash_commands', async (e) => { slashes.push(e); await e.ack({ text: 'all good' }); });
  const slash = await control('slash', { command: '/hermes', text: 'status', user: 'UUSER001', channel: 'C0000001' });
  await until(() => fake.state.responses.some((r) => r.id === `ack:${slash.envelope_id}`));
  assert.equal(slashes[0].body.command, '/hermes');
  assert.equal(slashes[0].accepts_response_payload, true);
  assert.equal(fake.state.responses.find((r) => r.id === `ack:${slash.envelope_id}`).text, 'all good');
  const answered = await fetch(slash.response_url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'later answer', response_type: 'ephemeral' }) });
  assert.deepEqual(await answered.json(), { ok: true });
  const presses = [];
  client.on('interactive', async (e) => { presses.push(e); await e.ack(); });
  const press = await control('press', { user: 'UUSER001', channel: 'C0000001', message_ts: posted.ts, action_id: 'approve', value: 'yes' });
  await until(() => fake.state.acks.some((a) => a.envelope_id === press.envelope_id));
  assert.equal(presses[0].body.type, 'block_actions');
  assert.equal(presses[0].body.actions[0].block_id, 'b1');
  assert.equal(presses[0].body.message.text, 'from the bot');

  // Slack asks for a refresh: the client closes, opens a new connection, and what was
  // dispatched meanwhile arrives on it.
  const reconnected = once(client, 'connected', 8000);
  assert.deepEqual(await control('disconnect', { reason: 'refresh_requested' }), { sent: true });
  const later = await control('message', { channel: 'C0000001', text: 'after the refresh' });
  assert.equal(later.delivered, false);
  await reconnected;
  await until(() => fake.state.acks.some((a) => a.envelope_id === later.envelope_id));
  assert.equal(fake.state.opens, 2);
  assert.equal(fake.state.connections, 2);
  assert.equal(fake.state.live, 1);

  await client.disconnect();
  await until(() => fake.state.live === 0);
  assert.equal(fake.state.pending, 0);
  assert.deepEqual(fake.state.gaveUp, []);
  assert.deepEqual(fake.state.refused, []);
  await control('reset');
});

test('the official Web API client posts, edits, waits out a 429 and gets Slack errors', async () => {
  const web = webClient();
  const who = await web.auth.test();
  assert.equal(who.user_id, BOT_USER);
  assert.equal(who.bot_id, BOT_ID);

  await control('message', { channel: 'C0000002', text: 'the channel exists now' });
  const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hello*' } }];
  const posted = await web.chat.postMessage({ channel: 'C0000002', text: 'hello', blocks });  // form-encoded
  assert.match(posted.ts, /^\d+\.\d{6}$/);
  await web.chat.update({ channel: 'C0000002', ts: posted.ts, text: 'hello, edited' });
  const stored = fake.state.messages.find((m) => m.ts === posted.ts);
  assert.equal(stored.edits, 1);
  assert.deepEqual(stored.updates, ['hello, edited']);
  assert.deepEqual(stored.blocks, blocks);

  // Five posts a second per channel: the next one is a 429 the client waits out, then it succeeds.
  const limited = [];
  web.on(WebClientEvent.RATE_LIMITED, (seconds) => limited.push(seconds));
  const start = Date.now();
  for (let i = 0; i < 6; i++) assert.ok((await web.chat.postMessage({ channel: 'C0000002', text: `burst ${i}` })).ts);
  assert.ok(fake.state.limited >= 1);
  assert.deepEqual(limited, [1]);
  assert.ok(Date.now() - start >= 900);

  await assert.rejects(web.chat.postMessage({ channel: 'C9999999', text: 'nowhere' }), platformError('channel_not_found'));
  await assert.rejects(web.chat.postMessage({ channel: 'C0000002', text: 'x'.repeat(40001) }), platformError('msg_too_long'));
  await assert.rejects(web.chat.postMessage({ channel: 'C0000002' }), platformError('no_text'));
  await assert.rejects(web.chat.update({ channel: 'C0000002', ts: '1.000001', text: 'x' }), platformError('message_not_found'));
  await assert.rejects(webClient('xoxb-wrong').auth.test(), platformError('invalid_auth'));
  await assert.rejects(webClient(APP_TOKEN).chat.postMessage({ channel: 'C0000002', text: 'x' }), platformError('not_allowed_token_type'));
  assert.ok(fake.state.requests.every((r) => Object.keys(r).join() === 'method,at'));
});

test('raw: tickets are single-use, app tokens only for apps.connections.open, unknown acks refused', async () => {
  await control('reset');
  const open = async (token) => (await fetch(`${fake.apiUrl}apps.connections.open`, {
    method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {},
  })).json();
  assert.deepEqual(await open(BOT_TOKEN), { ok: false, error: 'not_allowed_token_type' });
  assert.deepEqual(await open('xapp-1-wrong'), { ok: false, error: 'invalid_auth' });
  assert.deepEqual(await open(undefined), { ok: false, error: 'not_authed' });
  const unknown = await fetch(`${fake.apiUrl}chat.nope`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}` } });
  assert.deepEqual(await unknown.json(), { ok: false, error: 'unknown_method' });

  const { url } = await open(APP_TOKEN);
  const ws = new WebSocket(url);
  const [hello] = await once(ws, 'message');
  assert.deepEqual(JSON.parse(String(hello)).connection_info, { app_id: APP_ID });
  const received = [];
  ws.on('message', (m) => received.push(JSON.parse(String(m))));
  const statusOf = (target) => new Promise((resolve) => {
    const other = new WebSocket(target);
    other.on('unexpected-response', (_req, res) => { resolve(res.statusCode); res.resume(); other.terminate(); });
    other.on('error', () => {});
    other.on('open', () => { resolve('open'); other.close(); });
  });
  assert.equal(await statusOf(url), 400);  // the ticket was used
  assert.equal(await statusOf(url.replace(/ticket=[^&]+/, 'ticket=bogus')), 400);
  assert.equal(fake.state.refused.length, 2);

  ws.send(JSON.stringify({ envelope_id: 'no-such-envelope' }));
  await until(() => fake.state.refused.length === 3);
  assert.match(fake.state.refused[2], /unknown envelope/);

  // Never acknowledged: three retries, then given up.
  await control('config', { ackWindowMs: 50 });
  const ignored = await control('message', { channel: 'C0000003', text: 'nobody acks this' });
  await until(() => fake.state.gaveUp.length === 1);
  assert.deepEqual(fake.state.envelopes.filter((e) => e.event_id === ignored.event_id).map((e) => e.retry_attempt), [0, 1, 2, 3]);
  assert.equal(fake.state.pending, 0);

  // A JSON body works with the token in the header only; a forced 429 carries Retry-After.
  const post = (body, headers = {}) => fetch(`${fake.apiUrl}chat.postMessage`, {
    method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body),
  });
  assert.equal((await (await post({ channel: 'C0000003', text: 'json' }, { authorization: `Bearer ${BOT_TOKEN}` })).json()).ok, true);
  assert.deepEqual(await (await post({ channel: 'C0000003', text: 'json', token: BOT_TOKEN })).json(), { ok: false, error: 'not_authed' });
  await control('config', { forced429: [{ method: 'chat.postMessage', retry_after: 2 }] });
  const forced = await post({ channel: 'C0000003', text: 'json' }, { authorization: `Bearer ${BOT_TOKEN}` });
  assert.equal(forced.status, 429);
  assert.equal(forced.headers.get('retry-after'), '2');
  assert.deepEqual(await forced.json(), { ok: false, error: 'ratelimited' });

  // A disconnect message, then the fake closes the connection itself.
  const closed = once(ws, 'close');
  await control('disconnect', { reason: 'warning', closeAfterMs: 100 });
  const [code] = await closed;
  assert.equal(code, 1001);
  assert.deepEqual(received.at(-1), { type: 'disconnect', reason: 'warning', debug_info: { host: 'fake' } });

  await control('config', { revokeAppToken: true });
  assert.deepEqual(await open(APP_TOKEN), { ok: false, error: 'invalid_auth' });
});
