// Retention of the postback log and of delivery attempts (issue 18): the cron deletes rows older
// than POSTBACK_LOG_RETENTION_DAYS / DELIVERY_ATTEMPT_RETENTION_DAYS in bounded batches.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runScheduled } from '../../src/cron';
import { purgeExpiredLogs } from '../../src/cron/log-retention';
import { insertPostbackLog } from '../../src/db/postback-log';
import { createFixture, scalar } from '../helpers';
import { deliveriesOf, getPostback, mintClick } from '../postback-helpers';

const DAY = 86_400_000;
const NOW = Date.parse('2027-06-01T12:00:00.000Z');

async function logRow(receivedAt: number, profile = 'retention') {
  await insertPostbackLog(env.DB, {
    received_at: new Date(receivedAt).toISOString(),
    method: 'GET',
    profile,
    ip_prefix: null,
    advertiser_id: null,
    offer_id: null,
    click_id: null,
    order_id: null,
    conversion_id: null,
    params: '{}',
    outcome: 'refused',
    http_status: 401,
    error_code: 'unauthorized',
    error_message: 'Missing postback key',
  });
}

describe('log retention', () => {
  it('deletes postback log rows past POSTBACK_LOG_RETENTION_DAYS in batches, within the run budget', async () => {
    const days = Number(env.POSTBACK_LOG_RETENTION_DAYS);
    for (let i = 0; i < 25; i++) await logRow(NOW - (days + 1 + i) * DAY);
    await logRow(NOW - (days - 1) * DAY, 'young');
    const count = () => scalar("SELECT COUNT(*) AS n FROM postback_log WHERE profile IN ('retention', 'young')");
    // Two batches of 10 is the budget: 20 go now, the other 5 in the next run.
    expect((await purgeExpiredLogs(env, NOW, 10, 2)).postback_log).toBe(20);
    expect((await purgeExpiredLogs(env, NOW, 10, 2)).postback_log).toBe(5);
    expect((await purgeExpiredLogs(env, NOW, 10, 2)).postback_log).toBe(0);
    expect(await count()).toBe(1);
  });

  it('deletes delivery attempts past DELIVERY_ATTEMPT_RETENTION_DAYS and keeps the deliveries', async () => {
    const f = await createFixture();
    await env.DB.prepare(
      `INSERT INTO endpoints (publisher_id, url, method, format, events, signing_secret, created_at, updated_at)
       VALUES (?, 'https://hooks.example.com/x', 'POST', 'json', '["conversion.created"]', 'whsec_x', ?, ?)`,
    )
      .bind(f.publisherId, new Date().toISOString(), new Date().toISOString())
      .run();
    const answer = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    const [delivery] = await deliveriesOf(answer.body.conversion_id);
    const days = Number(env.DELIVERY_ATTEMPT_RETENTION_DAYS);
    const attempt = (n: number, startedAt: number) =>
      env.DB.prepare(
        `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, request_method, request_url)
         VALUES (?, ?, ?, 'POST', 'https://hooks.example.com/x')`,
      )
        .bind(delivery?.id, n, new Date(startedAt).toISOString())
        .run();
    await attempt(1, NOW - (days + 2) * DAY);
    await attempt(2, NOW - (days + 1) * DAY);
    await attempt(3, NOW - (days - 1) * DAY);
    expect((await purgeExpiredLogs(env, NOW)).delivery_attempts).toBe(2);
    expect(await scalar('SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id = ?', delivery?.id)).toBe(1);
    expect(await scalar('SELECT COUNT(*) AS n FROM deliveries WHERE id = ?', delivery?.id)).toBe(1);
  });

  it('runs in the scheduled handler', async () => {
    await logRow(Date.now() - (Number(env.POSTBACK_LOG_RETENTION_DAYS) + 3) * DAY, 'scheduled');
    await runScheduled(env);
    expect(await scalar("SELECT COUNT(*) AS n FROM postback_log WHERE profile = 'scheduled'")).toBe(0);
  });
});
