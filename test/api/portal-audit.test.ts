// Audit entries of admin changes land in the change's own D1 transaction: when the entry cannot
// be written, the change is not made either, and a change that changed nothing records nothing.
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, scalar } from '../helpers';

interface Entry {
  action: string;
  resource: string;
  resource_id: string | null;
  before: string | null;
  after: string | null;
}

const entries = async (action: string) =>
  (
    await env.DB.prepare(
      'SELECT action, resource, resource_id, before, after FROM audit_log WHERE action = ? ORDER BY id',
    )
      .bind(action)
      .all<Entry>()
  ).results;

/** Makes every audit entry fail to write, as a full disk or a broken table would. */
const refuseEntries = () =>
  env.DB.prepare(
    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
  ).run();

afterEach(async () => {
  await env.DB.prepare('DROP TRIGGER IF EXISTS refuse_audit').run();
});

describe('audit entries in the change’s own transaction', () => {
  it('an offer change (one batch) is not made when its entry cannot be written', async () => {
    const fixture = await createFixture();
    await refuseEntries();
    const refused = await admin('PATCH', `/offers/${fixture.offerId}`, { name: 'Renamed' });
    expect(refused.status).toBe(500);
    expect(await scalar('SELECT count(*) FROM offers WHERE id = ? AND name = ?', fixture.offerId, 'Renamed')).toBe(0);
  });

  it('a publisher created by one statement is not created when its entry cannot be written', async () => {
    const before = await scalar('SELECT count(*) FROM publishers');
    await refuseEntries();
    const refused = await admin('POST', '/publishers', { name: 'Never' });
    expect(refused.status).toBe(500);
    expect(await scalar('SELECT count(*) FROM publishers')).toBe(before);
  });

  it('a change records who, the resource id, before and after', async () => {
    const fixture = await createFixture({ name: 'Audited offer' });
    const [created] = (await entries('createOffer')).filter((e) => e.after?.includes('Audited offer'));
    expect(created).toMatchObject({ resource: 'offer', resource_id: String(fixture.offerId), before: null });
    await adminOk('PATCH', `/offers/${fixture.offerId}`, { name: 'Audited offer 2' });
    const updated = (await entries('updateOffer')).at(-1);
    expect(updated?.resource_id).toBe(String(fixture.offerId));
    expect(JSON.parse(updated?.before ?? '{}')).toMatchObject({ name: 'Audited offer' });
    expect(JSON.parse(updated?.after ?? '{}')).toMatchObject({ name: 'Audited offer 2' });
    const publisher = await adminOk<{ id: number }>('POST', '/publishers', { name: 'Audited publisher' });
    const entry = (await entries('createPublisher')).at(-1);
    expect(entry).toMatchObject({ resource: 'publisher', resource_id: String(publisher.id) });
    expect(JSON.parse(entry?.after ?? '{}')).toMatchObject({ name: 'Audited publisher' });
  });

  it('a refused change records nothing', async () => {
    const count = await scalar("SELECT count(*) FROM audit_log WHERE action = 'updatePublisher'");
    expect((await admin('PATCH', '/publishers/999999', { name: 'Ghost' })).status).toBe(404);
    expect(await scalar("SELECT count(*) FROM audit_log WHERE action = 'updatePublisher'")).toBe(count);
  });
});
