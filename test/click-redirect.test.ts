import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickRow, createFixture, eventually, worker } from './helpers';

describe('GET /c/:offerId/:publisherId', () => {
  it('redirects to the landing URL with the click ID added as click_id, keeping the query', async () => {
    const f = await createFixture();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?sub1=abc`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://shop.example/landing');
    expect(location.searchParams.get('src')).toBe('aff');
    expect(location.searchParams.get('click_id')).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('lands every answered click as exactly one row with its sub IDs', async () => {
    const f = await createFixture();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?sub1=a%20b&sub5=z`, {
      headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148' },
    });
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    const row = await eventually(() => clickRow(clickId));
    expect(row).toMatchObject({
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      sub1: 'a b',
      sub5: 'z',
      device: 'mobile',
    });
    const count = await env.DB.prepare('SELECT COUNT(*) AS n FROM clicks WHERE offer_id = ?')
      .bind(f.offerId)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });
});
