// The "validation" and "statements" sections of bench/RESULTS.md (bench/lib/month.ts).
import type { StatementsResult, Step, ValidationResult } from './month.ts';
import { errorOf, type Outcome, okOf, skipped, table, us } from './report-format.ts';
import { fmt, ms } from './stats.ts';

const stepRow = (s: Step) => [
  s.label,
  String(s.status),
  ms(s.wallMs),
  us(s.cpuUs / s.rows),
  fmt(s.counts.d1RowsRead),
  fmt(s.counts.d1RowsWritten),
  fmt(s.counts.d1RowsRead / s.rows, 1),
  fmt(s.counts.d1RowsWritten / s.rows, 1),
  fmt(s.counts.d1Calls),
  s.note,
];

const HEAD = [
  'step',
  'HTTP',
  'wall ms',
  'workerd CPU / row',
  'D1 rows read',
  'D1 rows written',
  'read / row',
  'written / row',
  'D1 round trips',
  'answer',
];

const HOW =
  'Requests go to the counting copy (`bench/count-entry.js`), which sums D1’s own `meta.rows_read` and ' +
  '`meta.rows_written` over every answer (`first()` is read through `all()` there so its rows count too) and ' +
  'consumes the `clickhop-validations` Queue in this runtime, so background chunks are counted as well. CPU is ' +
  'workerd’s, all threads (`/proc/<pid>/task/*/schedstat`), from the request to the end of the work; it includes ' +
  'the local D1, Queue and KV simulators, which in production run elsewhere.';

export function validationReport(outcome: Outcome<ValidationResult> | undefined): string[] {
  if (outcome === undefined) return [];
  const heading = '## Closing the month: bulk validation';
  const error = errorOf(outcome);
  const r = okOf(outcome);
  if (error || !r) return [heading, '', skipped('Bulk validation', error ?? 'no result'), ''];
  return [
    heading,
    '',
    `${fmt(r.seeded.conversions)} pending conversions of one offer (seeded by SQL in ${r.seeded.seedSeconds.toFixed(1)} s), ` +
      `one CSV of ${fmt(r.seeded.conversions)} rows \`order_id,status,reason\` approving each (${fmt(r.fileBytes)} bytes), ` +
      `sent by the operator. The run answered 202 and applied its rows in ${fmt(r.chunks)} chunks, one Queue message ` +
      'each; its time is from the request to the job being done (polled in D1 every 200 ms). The publisher has no ' +
      'endpoints, so no deliveries are sent. ' +
      HOW,
    '',
    table(HEAD, r.steps.map(stepRow), { left: true }),
    '',
  ];
}

export function statementsReport(outcome: Outcome<StatementsResult> | undefined): string[] {
  if (outcome === undefined) return [];
  const heading = '## Closing the month: statement and invoice runs';
  const error = errorOf(outcome);
  const r = okOf(outcome);
  if (error || !r) return [heading, '', skipped('Statement run', error ?? 'no result'), ''];
  const s = r.seeded;
  return [
    heading,
    '',
    `${fmt(s.conversions)} approved conversions of one month over ${s.publishers} publishers, ${s.offers} offers and ` +
      `${s.advertisers} advertisers (parties through the admin API, conversions by SQL, ${s.seedSeconds.toFixed(1)} s), ` +
      'none stated yet. Each run is one API request. ' +
      HOW,
    '',
    table(HEAD, r.steps.map(stepRow), { left: true }),
    '',
  ];
}
