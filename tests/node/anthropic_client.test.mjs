// The official Anthropic Node SDK against the gateway's /v1/messages (started by the C++ test
// that runs this file with GATEWAY_URL, GATEWAY_KEY and FAKE_PROVIDER_URL set; the gateway's
// primary provider is the fake's Anthropic side). Tests run in file order; the billing one goes
// last because it benches the provider.
import test from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const options = { baseURL: process.env.GATEWAY_URL, maxRetries: 0, timeout: 20000 };
const client = new Anthropic({ ...options, apiKey: process.env.GATEWAY_KEY });
const fake = process.env.FAKE_PROVIDER_URL;
const script = (key, steps) =>
  fetch(`${fake}/__script`, { method: 'POST', body: JSON.stringify({ key, steps }) });
const calls = async () => (await fetch(`${fake}/__calls`)).json();
const model = 'claude-test';

test('messages.create answers in Anthropic shape', async () => {
  const message = await client.messages.create({
    model,
    max_tokens: 100,
    system: 'Answer briefly.',
    messages: [{ role: 'user', content: 'hello' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.deepEqual(message.content, [{ type: 'text', text: 'echo: hello' }]);
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.usage.output_tokens > 0);
  const sent = (await calls()).at(-1);
  assert.equal(sent.api, 'anthropic', 'the gateway called its Anthropic primary');
  assert.equal(sent.request.max_tokens, 100, "the client's max_tokens went upstream");
  assert.match(sent.system.map((b) => b.text).join('\n'), /Answer briefly\./);
});

test('messages.stream: the SDK accumulates the whole text from our events', async () => {
  const stream = client.messages.stream({
    model,
    max_tokens: 100,
    messages: [{ role: 'user', content: 'stream this please' }],
  });
  const seen = [];
  stream.on('streamEvent', (event) => seen.push(event.type));
  const text = await stream.finalText();
  const final = await stream.finalMessage();
  assert.equal(text, 'echo: stream this please');
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(seen[0], 'message_start');
  assert.equal(seen.at(-1), 'message_stop');
  assert.ok(seen.filter((t) => t === 'content_block_delta').length >= 2, 'streamed in pieces');
});

test('a client tool round trip: tool_use out, tool_result in', async () => {
  const tools = [{
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  }];
  await script('*', [{ tool_calls: [{ id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Paris"}' }] }]);
  const asked = await client.messages.create({
    model, max_tokens: 200, tools,
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  assert.equal(asked.stop_reason, 'tool_use');
  const use = asked.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use, { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } });
  assert.equal((await calls()).at(-1).tools[0].name, 'get_weather');

  await script('*', [{ content: 'It is 18C in Paris.' }]);
  const answered = await client.messages.create({
    model, max_tokens: 200, tools,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: asked.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18C' }] },
    ],
  });
  assert.equal(answered.content[0].text, 'It is 18C in Paris.');
  const upstream = (await calls()).at(-1).messages;
  const result = upstream.at(-1).content.find((b) => b.type === 'tool_result');
  assert.equal(result.tool_use_id, 'toolu_01');
  assert.equal(result.content, '18C');
});

test('a session continues with X-Hermes-Session-Id, and a bearer key works too', async () => {
  const bearer = new Anthropic({ ...options, apiKey: null, authToken: process.env.GATEWAY_KEY });
  const { response } = await bearer.messages
    .create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'first' }] })
    .withResponse();
  const session = response.headers.get('x-hermes-session-id');
  assert.match(session, /^hs_[0-9a-f]{32}$/);
  const second = await bearer.messages.create(
    { model, max_tokens: 50, messages: [{ role: 'user', content: 'second' }] },
    { headers: { 'X-Hermes-Session-Id': session } },
  );
  assert.equal(second.content[0].text, 'echo: second');
  const texts = (await calls()).at(-1).messages.map((m) => m.content.map((b) => b.text).join(''));
  assert.deepEqual(texts, ['first', 'echo: first', 'second']);
});

test('count_tokens answers the gateway estimate', async () => {
  const counted = await client.messages.countTokens({
    model,
    messages: [{ role: 'user', content: 'x'.repeat(400) }],
  });
  assert.ok(counted.input_tokens >= 100 && counted.input_tokens < 130, `${counted.input_tokens}`);
});

test('a wrong key and a bad request are Anthropic-shaped errors', async () => {
  const stranger = new Anthropic({ ...options, apiKey: 'wrong-key' });
  await assert.rejects(
    stranger.messages.create({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    (error) => error instanceof Anthropic.AuthenticationError &&
      error.error?.error?.type === 'authentication_error');
  await assert.rejects(
    client.messages.create({ model, max_tokens: 5, top_k: 3, messages: [{ role: 'user', content: 'hi' }] }),
    (error) => error instanceof Anthropic.BadRequestError &&
      error.error?.error?.type === 'invalid_request_error' && /top_k/.test(error.message));
});

test('an upstream billing failure surfaces as a 402 billing_error with the hint', async () => {
  const low = { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' } };
  await script('*', [{ status: 400, body: low }, { status: 400, body: low }]);
  await assert.rejects(
    client.messages.create({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    (error) => error instanceof Anthropic.APIError && error.status === 402 &&
      error.error?.type === 'error' && error.error?.error?.type === 'billing_error' &&
      /balance or quota is exhausted/.test(error.error.error.message));
});
