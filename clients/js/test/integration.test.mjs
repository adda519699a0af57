// Integration tests of the SDK against a real weftd (see weftd.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { WeftClient, ReadOnlyError } from '../dist/index.js';
import { Weftd, eventually } from './weftd.mjs';

const server = new Weftd();
before(async () => server.start());
after(async () => server.dispose());

const clients = [];
async function clientFor(user, opts = {}) {
  const c = await WeftClient.create({
    url: server.url,
    storage: 'indexeddb',
    indexedDB: opts.indexedDB ?? new IDBFactory(),
    IDBKeyRange,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    presenceThrottleMs: 20,
    ...opts,
  });
  clients.push(c);
  if (user) await c.auth.signIn({ email: user.email, password: user.password });
  return c;
}
after(async () => {
  for (const c of clients) await c.close();
});

test('two clients converge on a text', async () => {
  const t = await server.team('editor');
  const a = await clientFor(t.alice);
  const b = await clientFor(t.bob);
  const ta = await a.openText(t.doc);
  const tb = await b.openText(t.doc);
  const remote = [];
  tb.on('change', (ev) => remote.push(ev));
  ta.insert(0, 'hello 😀 world');
  tb.insert(0, 'Bob: ');
  await Promise.all([ta.whenSynced(), tb.whenSynced()]);
  await eventually(() => ta.value() === tb.value() && ta.value().length === 'hello 😀 worldBob: '.length, 'convergence');
  assert.ok(ta.value().includes('hello 😀 world'));
  assert.ok(remote.some((ev) => ev.origin === 'remote'));
  // A delete across the emoji, in UTF-16 units.
  const at = ta.value().indexOf('😀');
  ta.delete(at, 2);
  await ta.whenSynced();
  await eventually(() => tb.value() === ta.value() && !tb.value().includes('😀'), 'the delete to arrive');
  const content = await b.api.documents.content(t.doc);
  assert.equal(content.text, tb.value());
});
