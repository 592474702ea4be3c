// The test bindings refuse what production refuses (test/production-limits.ts), with the
// messages production gives, and let through what production lets through. Every other test
// file runs on the same bindings, so these are the limits the whole suite is held to.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_LIMITS } from '../production-limits';

const { sqlValueBytes, sqlStatementBytes, queueMessageBytes, queueMetadataBytes, queueBatchBytes } = PRODUCTION_LIMITS;

/** A JSON body whose serialised size is exactly `bytes`. */
const bodyOf = (bytes: number) => ({ x: 'a'.repeat(bytes - '{"x":""}'.length) });

describe('production limit: D1', () => {
  it('a bound string over 2,000,000 bytes is refused as D1 refuses it; one at the limit is not', async () => {
    const at = await env.DB.prepare('SELECT length(?) AS n').bind('a'.repeat(sqlValueBytes)).first<{ n: number }>();
    expect(at?.n).toBe(sqlValueBytes);
    // 3-byte characters: the limit is in bytes, not characters.
    const over = env.DB.prepare('SELECT length(?) AS n').bind('€'.repeat(sqlValueBytes / 3 + 1));
    await expect(over.first()).rejects.toThrow('D1_ERROR: string or blob too big: SQLITE_TOOBIG');
    await expect(env.DB.batch([over])).rejects.toThrow('D1_ERROR: string or blob too big: SQLITE_TOOBIG');
  });

  it('a statement over 100,000 bytes is refused', async () => {
    const long = `SELECT 1 ${' '.repeat(sqlStatementBytes)}`;
    await expect(env.DB.prepare(long).all()).rejects.toThrow('D1_ERROR: statement too long: SQLITE_TOOBIG');
  });

  it('a result value SQLite would have to build over 2 MB is refused', async () => {
    await expect(
      env.DB.prepare('SELECT ? || ? AS joined').bind('a'.repeat(1_500_000), 'b'.repeat(1_500_000)).first(),
    ).rejects.toThrow('D1_ERROR: string or blob too big: SQLITE_TOOBIG');
  });

  it('more than 100 bound parameters are refused (the local runtime already does)', async () => {
    const params = Array.from({ length: 101 }, (_, i) => i);
    const sql = `SELECT 1 WHERE 0 IN (${params.map(() => '?').join(',')})`;
    await expect(
      env.DB.prepare(sql)
        .bind(...params)
        .all(),
    ).rejects.toThrow('too many SQL variables');
  });
});

describe('production limit: Durable Object SQL', () => {
  it('refuses a string over 2 MB and a statement over 100 KB, in any Durable Object', async () => {
    const stub = env.CLICK_PARTITIONS.getByName('limits:sql-probe');
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      expect(sql.exec('SELECT length(?) AS n', 'a'.repeat(sqlValueBytes)).one().n).toBe(sqlValueBytes);
      expect(() => sql.exec('SELECT length(?) AS n', 'a'.repeat(sqlValueBytes + 1))).toThrow(
        'string or blob too big: SQLITE_TOOBIG',
      );
      expect(() => sql.exec(`SELECT 1 ${' '.repeat(sqlStatementBytes)}`)).toThrow('statement too long: SQLITE_TOOBIG');
    });
  });
});

describe('production limit: Queues', () => {
  it('a message over 128 KB with its ~100 bytes of metadata is refused; one at the limit is sent', async () => {
    await env.NOTIFICATIONS_QUEUE.send(bodyOf(queueMessageBytes - queueMetadataBytes), { contentType: 'json' });
    await expect(
      env.NOTIFICATIONS_QUEUE.send(bodyOf(queueMessageBytes - queueMetadataBytes + 1), { contentType: 'json' }),
    ).rejects.toThrow('Message size out of bounds (10204)');
  });

  it('sendBatch refuses 101 messages and 256 KB in all', async () => {
    const small = { body: { v: 0 }, contentType: 'json' as const };
    await expect(env.NOTIFICATIONS_QUEUE.sendBatch(Array.from({ length: 101 }, () => small))).rejects.toThrow(
      'Batch count out of bounds (10206)',
    );
    const third = { body: bodyOf(Math.floor(queueBatchBytes / 3)), contentType: 'json' as const };
    await expect(env.NOTIFICATIONS_QUEUE.sendBatch([third, third, third])).rejects.toThrow(
      'Batch size out of bounds (10205)',
    );
  });
});

describe('production limit: KV', () => {
  it('a second write of one key within a second is refused with 429; another key is not', async () => {
    await env.CONFIG.put('limits:probe:a', '1');
    await expect(env.CONFIG.put('limits:probe:a', '2')).rejects.toThrow('KV PUT failed: 429 Too Many Requests');
    await env.CONFIG.put('limits:probe:b', '1');
    expect(await env.CONFIG.get('limits:probe:a')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, PRODUCTION_LIMITS.kvKeyWriteIntervalMs));
    await env.CONFIG.put('limits:probe:a', '3');
    expect(await env.CONFIG.get('limits:probe:a')).toBe('3');
  });
});
