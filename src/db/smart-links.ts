// smart_links and smart_link_rules tables: SQL and row types. A link's rules are replaced as a
// whole, in the same batch as the link row.

export interface SmartLinkRow {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface SmartLinkRuleRow {
  smart_link_id: number;
  position: number;
  offer_id: number;
  weight: number;
  /** JSON array of country codes, NULL = any. */
  countries: string | null;
  /** JSON array of device classes, NULL = any. */
  devices: string | null;
}

export type SmartLinkRuleValues = Omit<SmartLinkRuleRow, 'smart_link_id' | 'position'>;

type LinkRef = { id: number } | 'inserted';

function replaceRulesStatements(db: D1Database, link: LinkRef, rules: SmartLinkRuleValues[]): D1PreparedStatement[] {
  const id = link === 'inserted' ? '(SELECT MAX(id) FROM smart_links)' : '?1';
  const linkBind = link === 'inserted' ? 0 : link.id;
  // One statement for all rules: json_each keeps the parameter count fixed whatever their number.
  return [
    db.prepare(`DELETE FROM smart_link_rules WHERE smart_link_id = ${id} AND ?1 IS NOT NULL`).bind(linkBind),
    db
      .prepare(
        `INSERT INTO smart_link_rules (smart_link_id, position, offer_id, weight, countries, devices)
         SELECT ${id}, r.key, json_extract(r.value, '$.offer_id'), json_extract(r.value, '$.weight'),
                json_extract(r.value, '$.countries'), json_extract(r.value, '$.devices')
         FROM json_each(?2) r WHERE ?1 IS NOT NULL`,
      )
      .bind(linkBind, JSON.stringify(rules)),
  ];
}

/** Creates a link with its rules in one batch; returns its id. */
export async function insertSmartLink(
  db: D1Database,
  name: string,
  rules: SmartLinkRuleValues[],
  now: string,
): Promise<number> {
  const [inserted] = await db.batch([
    db
      .prepare('INSERT INTO smart_links (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id')
      .bind(name, now, now),
    ...replaceRulesStatements(db, 'inserted', rules),
  ]);
  const id = (inserted?.results[0] as { id: number } | undefined)?.id;
  if (!id) throw new Error('smart link insert returned no id');
  return id;
}

/** Renames and/or replaces the rules of a link; false when there is no such link. */
export async function updateSmartLink(
  db: D1Database,
  id: number,
  changes: { name?: string; rules?: SmartLinkRuleValues[] },
  now: string,
): Promise<boolean> {
  const [updated] = await db.batch([
    db
      .prepare('UPDATE smart_links SET name = COALESCE(?2, name), updated_at = ?3 WHERE id = ?1 RETURNING id')
      .bind(id, changes.name ?? null, now),
    ...(changes.rules ? replaceRulesStatements(db, { id }, changes.rules) : []),
  ]);
  return (updated?.results.length ?? 0) > 0;
}

export const getSmartLink = (db: D1Database, id: number): Promise<SmartLinkRow | null> =>
  db.prepare('SELECT * FROM smart_links WHERE id = ?').bind(id).first<SmartLinkRow>();

export async function listSmartLinks(db: D1Database, after: number, limit: number): Promise<SmartLinkRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM smart_links WHERE id > ? ORDER BY id LIMIT ?')
    .bind(after, limit)
    .all<SmartLinkRow>();
  return results;
}

/** The rules of the given links, in rule order. */
export async function smartLinkRules(db: D1Database, ids: number[]): Promise<SmartLinkRuleRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM smart_link_rules WHERE smart_link_id IN (SELECT value FROM json_each(?))
       ORDER BY smart_link_id, position`,
    )
    .bind(JSON.stringify(ids))
    .all<SmartLinkRuleRow>();
  return results;
}

export const deleteSmartLinkStatements = (db: D1Database, id: number): D1PreparedStatement[] => [
  db.prepare('DELETE FROM smart_link_rules WHERE smart_link_id = ?').bind(id),
  db.prepare('DELETE FROM smart_links WHERE id = ?').bind(id),
];
