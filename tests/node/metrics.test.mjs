// The gateway's /metrics read by a real Prometheus text-format parser (run by the C++ usage
// test with GATEWAY_URL set, after turns that spent tokens and money).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const parse = require('parse-prometheus-text-format');

const text = await (await fetch(`${process.env.GATEWAY_URL}/metrics`)).text();
const families = new Map(parse(text).map((f) => [f.name, f]));
const family = (name) => {
  assert.ok(families.has(name), `${name} is exposed`);
  return families.get(name);
};

test('tokens are counted per provider, model and kind', () => {
  const tokens = family('hermes_tokens_total');
  assert.equal(tokens.type, 'COUNTER');
  const kinds = new Set(tokens.metrics.map((m) => m.labels.kind));
  assert.deepEqual([...kinds].sort(), ['completion', 'prompt']);
  const prompt = tokens.metrics.find((m) => m.labels.provider === 'primary' && m.labels.kind === 'prompt');
  assert.ok(Number(prompt.value) > 0);
});

test('cost is counted for priced models only', () => {
  const cost = family('hermes_cost_usd_total');
  assert.ok(cost.metrics.some((m) => m.labels.model === 'demo-model' && Number(m.value) > 0));
  assert.ok(!cost.metrics.some((m) => m.labels.model === 'backup-model'), 'backup-model has no price');
});

test('turn durations and first tokens are histograms with bounded labels', () => {
  // The parser keeps a labelled histogram's buckets only: its labels and count are read
  // from the text.
  const turns = family('hermes_turn_duration_seconds');
  assert.equal(turns.type, 'HISTOGRAM');
  assert.ok(Number(turns.metrics[0].buckets['+Inf']) >= 3, JSON.stringify(turns.metrics));
  assert.ok(Object.keys(turns.metrics[0].buckets).includes('+Inf'));
  assert.match(text, /^hermes_turn_duration_seconds_count\{platform="api_server"\} [3-9]/m);
  assert.equal(family('hermes_upstream_first_token_seconds').type, 'HISTOGRAM');
  const providers = [...text.matchAll(/^hermes_upstream_first_token_seconds_count\{provider="([^"]+)"\}/gm)]
    .map((m) => m[1]).sort();
  assert.deepEqual(providers, ['backup', 'primary']);
});

test('no label carries a session id', () => {
  for (const f of families.values()) {
    for (const m of f.metrics) {
      for (const value of Object.values(m.labels ?? {})) assert.doesNotMatch(String(value), /^hs_/);
    }
  }
});
