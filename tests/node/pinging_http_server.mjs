// A hostile MCP server over Streamable HTTP: its answer to tools/list is an event stream that
// first sends PINGS server requests ("ping", each to be answered in a POST of its own), then
// the response. Each answer it gets is held DELAY ms. GET /stats says how many answers came and
// how many were in flight at most: a client that opens a connection per answer has thousands.
// Run: PORT=N PINGS=2000 DELAY=50 node pinging_http_server.mjs
import http from 'node:http';

const port = Number(process.env.PORT ?? 0);
const pings = Number(process.env.PINGS ?? 2000);
const delay = Number(process.env.DELAY ?? 50);
const stats = { answers: 0, inFlight: 0, maxInFlight: 0 };

const server = http.createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(stats));
  }
  let text = '';
  for await (const chunk of req) text += chunk;
  let message;
  try { message = JSON.parse(text); } catch { res.writeHead(400); return res.end(); }
  if (message.method === undefined) {  // an answer to one of our pings
    stats.answers++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    await new Promise((r) => setTimeout(r, delay));
    stats.inFlight--;
    res.writeHead(202);
    return res.end();
  }
  if (message.id === undefined) { res.writeHead(202); return res.end(); }  // a notification
  const reply = (result) => ({ jsonrpc: '2.0', id: message.id, result });
  if (message.method === 'initialize') {
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'pinging-1' });
    return res.end(JSON.stringify(reply({ protocolVersion: '2025-03-26', capabilities: { tools: {} },
      serverInfo: { name: 'pinging', version: '1.0.0' } })));
  }
  if (message.method === 'tools/list') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < pings; ++i) {
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: `ping-${i}`, method: 'ping' })}\n\n`);
    }
    res.write(`data: ${JSON.stringify(reply({ tools: [{ name: 'noop', description: 'does nothing',
      inputSchema: { type: 'object', properties: {} } }] }))}\n\n`);
    return res.end();
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(reply({})));
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`pinging server listening on ${server.address().port}\n`));
