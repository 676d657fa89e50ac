// The Responses API through the official OpenAI Node client, against the gateway (started by
// the C++ test that runs this file twice: PHASE=before, then PHASE=after a restart of the
// daemon, with CHAIN_FILE carrying a response id from one process to the next).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
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
const lastSent = async () => (await calls()).at(-1).messages.map((m) => m.content);
const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

if (process.env.PHASE === 'before') {
  test('responses.create answers with a stored response object', async () => {
    const reply = await client.responses.create({ model: 'demo-model', input: 'hello' });
    assert.match(reply.id, /^resp_[0-9a-f]+$/);
    assert.equal(reply.object, 'response');
    assert.equal(reply.status, 'completed');
    assert.equal(reply.output_text, 'echo: hello');
    assert.equal(reply.output[0].type, 'message');
    assert.ok(reply.usage.total_tokens > 0, JSON.stringify(reply.usage));
    const again = await client.responses.retrieve(reply.id);
    assert.equal(again.output[0].content[0].text, 'echo: hello');
  });

  test('a streamed response is the full event sequence, numbered in order', async () => {
    const stream = await client.responses.create({ model: 'demo-model', input: 'stream me please', stream: true });
    const types = [];
    let text = '';
    let last = -1;
    let completed = null;
    for await (const event of stream) {
      assert.equal(event.sequence_number, last + 1, `${event.type} is numbered in order`);
      last = event.sequence_number;
      if (types.at(-1) !== event.type) types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.deepEqual(types, [
      'response.created', 'response.in_progress', 'response.output_item.added',
      'response.content_part.added', 'response.output_text.delta', 'response.output_text.done',
      'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.equal(text, 'echo: stream me please');
    assert.equal(completed.output[0].content[0].text, text);
    assert.equal((await client.responses.retrieve(completed.id)).status, 'completed');
  });

  test('previous_response_id continues the conversation; instructions stay with their request', async () => {
    const first = await client.responses.create({ input: 'first', instructions: 'Answer in one word.' });
    assert.deepEqual(await lastSent(), ['Answer in one word.', 'first']);
    const second = await client.responses.create({ input: 'second', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual(await lastSent(), ['You are a helpful assistant.', 'first', 'echo: first', 'second']);
    const items = [];
    for await (const item of client.responses.inputItems.list(second.id)) items.push(item);
    assert.equal(items.length, 1);
    assert.equal(items[0].content[0].text, 'second');
    writeFileSync(process.env.CHAIN_FILE, second.id);
  });

  test('a function tool round trip: the call comes back, its output continues the response', async () => {
    await script('*', [
      { tool_calls: [{ id: 'call_w', name: 'get_weather', arguments: JSON.stringify({ city: 'Oslo' }) }] },
      { content: 'It rains in Oslo.' },
    ]);
    const asked = await client.responses.create({ input: 'weather in Oslo?', tools: [weatherTool] });
    const call = asked.output.find((item) => item.type === 'function_call');
    assert.ok(call, JSON.stringify(asked.output));
    assert.equal(call.name, 'get_weather');
    assert.equal(call.call_id, 'call_w');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo' });
    assert.equal((await calls()).at(-1).tools[0].function.name, 'get_weather');

    const answered = await client.responses.create({
      previous_response_id: asked.id,
      tools: [weatherTool],
      input: [{ type: 'function_call_output', call_id: 'call_w', output: 'rain in Oslo' }],
    });
    assert.equal(answered.output_text, 'It rains in Oslo.');
    const sent = (await calls()).at(-1).messages;
    assert.equal(sent.at(-2).tool_calls[0].id, 'call_w');
    assert.deepEqual({ role: sent.at(-1).role, tool_call_id: sent.at(-1).tool_call_id, content: sent.at(-1).content },
      { role: 'tool', tool_call_id: 'call_w', content: 'rain in Oslo' });
  });

  test('a deleted response is gone, and so is continuing from it', async () => {
    const reply = await client.responses.create({ input: 'forget me' });
    await client.responses.del(reply.id);
    await assert.rejects(client.responses.retrieve(reply.id), (e) => e instanceof OpenAI.NotFoundError);
    await assert.rejects(
      client.responses.create({ input: 'x', previous_response_id: reply.id }),
      (e) => e instanceof OpenAI.NotFoundError && /leave previous_response_id out/.test(e.message));
    await assert.rejects(client.responses.del(reply.id), (e) => e instanceof OpenAI.NotFoundError);
  });

  test('store: false is answered but kept nowhere', async () => {
    const reply = await client.responses.create({ input: 'ephemeral', store: false });
    assert.equal(reply.output_text, 'echo: ephemeral');
    await assert.rejects(client.responses.retrieve(reply.id), (e) => e instanceof OpenAI.NotFoundError);
  });
}

if (process.env.PHASE === 'after') {
  test('a chain started before the restart goes on after it', async () => {
    const second = readFileSync(process.env.CHAIN_FILE, 'utf8');
    const third = await client.responses.create({ input: 'third', previous_response_id: second });
    assert.equal(third.output_text, 'echo: third');
    assert.deepEqual(await lastSent(), [
      'You are a helpful assistant.', 'first', 'echo: first', 'second', 'echo: second', 'third']);
    assert.equal((await client.responses.retrieve(second)).output[0].content[0].text, 'echo: second');
  });

  // Last: it benches the provider.
  test('an upstream 402 ends the stream with response.failed carrying the billing hint', async () => {
    const broke = { status: 402, body: { error: { message: 'Insufficient Balance' } } };
    await script('k1', [broke]);
    await script('k2', [broke]);
    const stream = await client.responses.create({ input: 'x', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(events.map((e) => e.type), ['response.created', 'response.in_progress', 'response.failed']);
    const failed = events.at(-1).response;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'billing');
    assert.ok(failed.error.message.startsWith('Your API balance or quota is exhausted. Check your provider dashboard.'),
      failed.error.message);
    assert.equal((await client.responses.retrieve(failed.id)).status, 'failed', 'the failure is stored too');
  });
}
