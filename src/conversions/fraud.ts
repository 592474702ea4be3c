// Fraud signals on a conversion: flags that do not refuse it but mark it for review. An offer
// with hold_flagged keeps a flagged conversion pending (it never starts approved and the
// validation period does not approve it). Pure.
import type { ClickRow } from '../db/clicks';
import { isDatacenterAsn } from './datacenter-asns';
import type { TimeFlag } from './time-rules';

export type ConversionFlag = 'bot_click' | 'datacenter_asn' | TimeFlag;

/**
 * The flags of a conversion: from its click row (when it has landed: a conversion that beats
 * its click row cannot be checked for these) and from the time rule.
 */
export function conversionFlags(
  click: Pick<ClickRow, 'is_bot' | 'asn'> | null,
  timeFlag: TimeFlag | null,
): ConversionFlag[] {
  const flags: ConversionFlag[] = [];
  if (click?.is_bot === 1) flags.push('bot_click');
  if (click && isDatacenterAsn(click.asn)) flags.push('datacenter_asn');
  if (timeFlag) flags.push(timeFlag);
  return flags;
}

export const parseFlags = (json: string | null | undefined): ConversionFlag[] =>
  json ? (JSON.parse(json) as ConversionFlag[]) : [];

/** A held offer keeps a flagged conversion out of automatic approval. */
export const isHeld = (holdFlagged: number | undefined, flags: readonly string[]): boolean =>
  holdFlagged === 1 && flags.length > 0;
