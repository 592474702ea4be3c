import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { it } from 'vitest';

it('probe', async () => {
  const desc = Object.getOwnPropertyDescriptor(env, 'DB');
  console.log('DB desc', desc && { w: desc.writable, c: desc.configurable, get: !!desc.get }, Object.isFrozen(env), Object.isExtensible(env));
  console.log('ctor', env.DB.constructor.name, Object.getOwnPropertyNames(Object.getPrototypeOf(env.DB)));
  console.log('KV ctor', env.CONFIG.constructor.name, Object.getOwnPropertyNames(Object.getPrototypeOf(env.CONFIG)));
  const kvput = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(env.CONFIG), 'put');
  console.log('kv put desc', kvput && { w: kvput.writable, c: kvput.configurable });
  console.log('Q ctor', env.CLICKS_QUEUE.constructor.name, Object.getOwnPropertyNames(Object.getPrototypeOf(env.CLICKS_QUEUE)));
  console.log('globals', typeof (globalThis as any).SqlStorage, typeof (globalThis as any).D1Database, typeof (globalThis as any).KvNamespace);
  const orig = env.DB;
  try {
    (env as any).DB = { marker: 1 };
    console.log('after set', (env as any).DB.marker);
  } catch (e) { console.log('set failed', String(e)); }
  (env as any).DB = orig;
  const stub = env.CLICK_PARTITIONS.getByName('probe');
  await runInDurableObject(stub, async (_i, state) => {
    const sql = state.storage.sql;
    const proto = Object.getPrototypeOf(sql);
    console.log('sql ctor', sql.constructor.name, Object.getOwnPropertyNames(proto));
    const d = Object.getOwnPropertyDescriptor(proto, 'exec');
    console.log('exec desc', d && { w: d.writable, c: d.configurable });
    try { sql.exec('SELECT * FROM nope'); } catch (e) { console.log('err', String(e), (e as Error).constructor.name); }
    const big = 'x'.repeat(3_000_000);
    console.log('big', sql.exec('SELECT length(?) AS n', big).one());
    const args = Array.from({ length: 101 }, (_, i) => i);
    try { console.log('101', sql.exec(`SELECT ${args.map(() => '?').join(',')}`, ...args).toArray().length); } catch (e) { console.log('101 err', String(e)); }
    const args2 = Array.from({ length: 150 }, (_, i) => i);
    try { console.log('150 in', sql.exec(`SELECT 1 WHERE 5 IN (${args2.map(() => '?').join(',')})`, ...args2).toArray().length); } catch (e) { console.log('150 err', String(e)); }
  });
  try { await env.DB.prepare('SELECT * FROM nope').run(); } catch (e) { console.log('d1 err', String(e)); }
  const args2 = Array.from({ length: 150 }, (_, i) => i);
  try { console.log('d1 150', (await env.DB.prepare(`SELECT 1 WHERE 5 IN (${args2.map(() => '?').join(',')})`).bind(...args2).all()).results.length); } catch (e) { console.log('d1 150 err', String(e)); }
  try { await env.CLICKS_QUEUE.send('x'.repeat(130_000)); } catch (e) { console.log('q err', String(e)); }
  try { await env.CLICKS_QUEUE.sendBatch(Array.from({length: 3}, () => ({ body: 'x'.repeat(100_000) }))); console.log('q batch 300k ok'); } catch (e) { console.log('q batch err', String(e)); }
  console.log(typeof exports);
});
