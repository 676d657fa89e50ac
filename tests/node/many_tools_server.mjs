// A stdio MCP server that offers N tools (default 10,000): the hostile case where every turn
// would carry N schemas (issue 24, item 7). node many_tools_server.mjs [N]
import readline from 'node:readline';

const count = Number(process.argv[2] ?? 10000);
const tools = Array.from({ length: count }, (_, i) => ({
  name: `tool_${i}`,
  description: `Tool number ${i}, which does nothing useful at all but takes room in the context.`,
  inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'Any text.' } } },
}));
const reply = (id, result) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let message;
  try { message = JSON.parse(line); } catch { return; }
  if (message.id === undefined) return;  // a notification
  if (message.method === 'initialize') {
    reply(message.id, { protocolVersion: message.params?.protocolVersion ?? '2025-06-18',
      capabilities: { tools: {} }, serverInfo: { name: 'many-tools', version: '1.0.0' } });
  } else if (message.method === 'tools/list') {
    reply(message.id, { tools });
  } else if (message.method === 'tools/call') {
    reply(message.id, { content: [{ type: 'text', text: `called ${message.params?.name}` }] });
  } else {
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'no such method' } })}\n`);
  }
});
