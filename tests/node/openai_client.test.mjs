// The official OpenAI Node client against the gateway (started by the C++ test that runs
// this file with GATEWAY_BASE_URL and FAKE_PROVIDER_URL set). Tests run in file order; the
// billing one goes last because it benches the provider.
import test from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.GATEWAY_BASE_URL,
  apiKey: process.env.GATEWAY_KEY ?? 'not-needed-on-loopback',
  maxRetries: 0,
  timeout: 20000,
});
const fake = process.env.FAKE_PROVIDER_URL;
const script = (key, steps) =>
  fetch(`${fake}/__script`, { method: 'POST', body: JSON.stringify({ key, steps }) });
const calls = async () => (await fetch(`${fake}/__calls`)).json();

test('plain completion', async () => {
  const reply = await client.chat.completions.create({
    model: 'demo-model',
    messages: [{ role: 'user', content: 'hello' }],
  });
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.choices[0].message.role, 'assistant');
  assert.equal(reply.choices[0].message.content, 'echo: hello');
  assert.equal(reply.choices[0].finish_reason, 'stop');
});

test('streamed completion', async () => {
  const stream = await client.chat.completions.create({
    model: 'demo-model',
    stream: true,
    messages: [{ role: 'user', content: 'stream this please' }],
  });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'echo: stream this please');
  assert.equal(finish, 'stop');
});

test('continued session sends the stored history upstream', async () => {
  const { response } = await client.chat.completions
    .create({ model: 'demo-model', messages: [{ role: 'user', content: 'first' }] })
    .withResponse();
  const session = response.headers.get('x-hermes-session-id');
  assert.match(session, /^hs_[0-9a-f]{32}$/);
  const second = await client.chat.completions.create(
    { model: 'demo-model', messages: [{ role: 'user', content: 'second' }] },
    { headers: { 'X-Hermes-Session-Id': session } },
  );
  assert.equal(second.choices[0].message.content, 'echo: second');
  const sent = (await calls()).at(-1).messages.map((m) => m.content);
  assert.deepEqual(sent, ['You are a helpful assistant.', 'first', 'echo: first', 'second']);
});

test('models.list', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['demo-model']);
});

test('a stream interrupted upstream ends with an error, not a hang', async () => {
  await script('*', [{ stream: ['one ', 'two ', 'three'], stream_break_after: 2 }]);
  const stream = await client.chat.completions.create({
    model: 'demo-model',
    stream: true,
    messages: [{ role: 'user', content: 'x' }],
  });
  let text = '';
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })(),
    (error) => error instanceof OpenAI.APIError,
  );
  assert.equal(text, 'one two ');
});

test('runTools: the model calls a client function and gets its result back', async () => {
  const before = (await calls()).length;
  await script('*', [
    { tool_calls: [{ id: 'call_w', name: 'get_weather', arguments: JSON.stringify({ city: 'Oslo' }) }] },
    { content: 'It rains in Oslo.' },
  ]);
  const runner = client.beta.chat.completions.runTools({
    model: 'demo-model',
    messages: [{ role: 'user', content: 'weather in Oslo?' }],
    tools: [{
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        function: async ({ city }) => `rain in ${city}`,
        parse: JSON.parse,
      },
    }],
  });
  assert.equal(await runner.finalContent(), 'It rains in Oslo.');
  const made = (await calls()).slice(before);
  assert.equal(made.length, 2);
  assert.equal(made[0].tools[0].function.name, 'get_weather', 'the client tools reach the provider');
  const sent = made[1].messages;
  assert.equal(sent.at(-2).tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(
    { role: sent.at(-1).role, tool_call_id: sent.at(-1).tool_call_id, content: sent.at(-1).content },
    { role: 'tool', tool_call_id: 'call_w', content: 'rain in Oslo' });
});

test('streamed tool calls assemble into the right call, with usage when asked', async () => {
  await script('*', [{ tool_calls: [{ id: 'call_s', name: 'lookup', arguments: '{"q":"hermes"}' }] }]);
  const stream = await client.chat.completions.create({
    model: 'demo-model',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'look it up' }],
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
  });
  const assembled = {};
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    finish = choice.finish_reason ?? finish;
    for (const d of choice.delta?.tool_calls ?? []) {
      assembled[d.index] ??= { id: '', name: '', arguments: '' };
      if (d.id) assembled[d.index].id = d.id;
      assembled[d.index].name += d.function?.name ?? '';
      assembled[d.index].arguments += d.function?.arguments ?? '';
    }
  }
  assert.deepEqual(assembled[0], { id: 'call_s', name: 'lookup', arguments: '{"q":"hermes"}' });
  assert.equal(finish, 'tool_calls');
  assert.ok(usage, 'stream_options.include_usage gives a usage chunk');
});

test('a model the gateway does not serve is refused by name', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-not-here', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.APIError && e.status === 404 && /gpt-not-here/.test(e.message));
});

test('an upstream 402 is a typed APIError carrying the billing hint', async () => {
  const broke = { status: 402, body: { error: { message: 'Insufficient Balance' } } };
  await script('k1', [broke]);
  await script('k2', [broke]);
  await assert.rejects(
    client.chat.completions.create({ model: 'demo-model', messages: [{ role: 'user', content: 'x' }] }),
    (error) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 402);
      assert.equal(error.type, 'billing');
      assert.ok(error.error.message.startsWith('Your API balance or quota is exhausted. Check your provider dashboard.'),
        error.error.message);
      return true;
    },
  );
});
