// Reads of browser-originated conversions (issue 23): how many a click ID has already produced
// for a goal, for the per-click limit (src/browser/convert.ts). Served by conversions_click.

export const browserConversionsOfClickStatement = (db: D1Database, clickId: string, goalId: number) =>
  db
    .prepare("SELECT COUNT(*) AS n FROM conversions WHERE click_id = ? AND goal_id = ? AND source = 'browser'")
    .bind(clickId, goalId);

export const countBrowserConversionsOfClick = async (db: D1Database, clickId: string, goalId: number) =>
  (await browserConversionsOfClickStatement(db, clickId, goalId).first<{ n: number }>())?.n ?? 0;
