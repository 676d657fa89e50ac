// A Bot API fake that keeps updates the way Telegram does: an update stays pending until a
// getUpdates asks for an offset past it (telegram-test-api forgets an update once it has been
// sent, so it cannot show a poller stuck on one it cannot read). Serves getMe, getUpdates
// (offset, limit), sendMessage, editMessageText and sendChatAction.
//   node telegram_offset_fake.mjs [--port N]      prints "listening PORT"
// Tests drive it over:
//   POST /control/send {chat_id, user_id, text}   a user writes (the next update id); with
//                                                 {bytes: N} instead of text, N bytes of text
//   GET  /control/sent                            [{chat_id, text}] the bot sent, oldest first
//   GET  /control/asks                            [{offset, limit}] of every getUpdates
import http from 'node:http';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

let nextUpdateId = 500;
let nextMessageId = 1;
const pending = [];  // {update_id, message}, oldest first
const sent = [];
const asks = [];

function userMessage(chatId, userId, text) {
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextMessageId++, date: 1700000000, text,
      chat: { id: chatId, type: 'private', first_name: 'Test' },
      from: { id: userId, is_bot: false, first_name: 'Test', username: 'tester' },
    },
  };
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      try { resolve(text ? JSON.parse(text) : {}); } catch { resolve({}); }
    });
  });
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function getUpdates(params) {
  const offset = Number(params.offset ?? 0);
  const limit = Math.min(Math.max(Number(params.limit ?? 100), 1), 100);
  asks.push({ offset, limit });
  // Everything before the offset is confirmed, as Telegram does.
  while (offset > 0 && pending.length && pending[0].update_id < offset) pending.shift();
  if (!pending.length) await new Promise((r) => setTimeout(r, 100));
  return pending.slice(0, limit);
}

const server = http.createServer(async (req, res) => {
  const params = await readBody(req);
  const url = new URL(req.url, 'http://fake');
  if (url.pathname === '/control/send') {
    const text = params.bytes ? 'x'.repeat(params.bytes) : params.text;
    const update = userMessage(params.chat_id, params.user_id, text);
    pending.push(update);
    return reply(res, 200, { update_id: update.update_id });
  }
  if (url.pathname === '/control/sent') return reply(res, 200, sent);
  if (url.pathname === '/control/asks') return reply(res, 200, asks);
  const method = url.pathname.split('/').pop();
  if (method === 'getMe') {
    return reply(res, 200, { ok: true, result: { id: 42, is_bot: true, username: 'offset_bot' } });
  }
  if (method === 'getUpdates') return reply(res, 200, { ok: true, result: await getUpdates(params) });
  if (method === 'sendMessage') {
    sent.push({ chat_id: params.chat_id, text: params.text });
    return reply(res, 200, { ok: true, result: { message_id: nextMessageId++, chat: { id: params.chat_id } } });
  }
  if (method === 'editMessageText' || method === 'sendChatAction') return reply(res, 200, { ok: true, result: true });
  return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => { server.close(); process.exit(0); });
