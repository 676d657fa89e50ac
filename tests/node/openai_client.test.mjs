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
