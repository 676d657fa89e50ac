// A stdio MCP server that floods: stderr lines, notifications/message and
// notifications/tools/list_changed as fast as it can for SECONDS (default 3) after the
// handshake, then, half a second later, writes "flood done" to stderr (issue 24, item 3).
// It counts the tools/list calls it gets and says so at the end. node chatty_server.mjs [SECONDS]
import readline from 'node:readline';

const seconds = Number(process.argv[2] ?? 3);
let lists = 0;
let sent = { stderr: 0, messages: 0, changes: 0 };
const out = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);  // false: wait for 'drain'

// As fast as the gateway reads: each burst waits for the pipes to drain (without that, Node
// would queue gigabytes in memory, and the test would measure Node, not the gateway).
const drained = (stream) => new Promise((resolve) => stream.once('drain', resolve));

async function flood() {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    let chunk = '';
    for (let i = 0; i < 200; i++) chunk += `chatty line ${sent.stderr++} ${'x'.repeat(80)}\n`;
    const errOk = process.stderr.write(chunk);
    let outOk = true;
    for (let i = 0; i < 20; i++) {
      outOk = out({ method: 'notifications/message', params: { level: 'info', data: `log ${sent.messages++}` } }) && outOk;
    }
    outOk = out({ method: 'notifications/tools/list_changed' }) && outOk;
    sent.changes++;
    if (!errOk) await drained(process.stderr);
    if (!outOk) await drained(process.stdout);
    await new Promise((resolve) => setImmediate(resolve));
  }
  setTimeout(() => process.stderr.write(`flood done: ${JSON.stringify(sent)}, ${lists} tools/list calls\n`), 500);
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let message;
  try { message = JSON.parse(line); } catch { return; }
  if (message.method === 'notifications/initialized') { flood(); return; }
  if (message.id === undefined) return;
  if (message.method === 'initialize') {
    out({ id: message.id, result: { protocolVersion: message.params?.protocolVersion ?? '2025-06-18',
      capabilities: { tools: { listChanged: true }, logging: {} }, serverInfo: { name: 'chatty', version: '1.0.0' } } });
  } else if (message.method === 'tools/list') {
    lists++;
    out({ id: message.id, result: { tools: [{ name: 'ping', description: 'Answers pong.', inputSchema: { type: 'object' } }] } });
  } else if (message.method === 'tools/call') {
    out({ id: message.id, result: { content: [{ type: 'text', text: 'pong' }] } });
  } else {
    out({ id: message.id, error: { code: -32601, message: 'no such method' } });
  }
});
