// The rules that decide how a new conversion starts, beyond what its sender asked for: the
// click-to-conversion time rule, fraud flags and the hold of flagged conversions. Pure; this is
// the one place a new rule adds its verdict (caps will add theirs here, with the statements that
// guard them in the write batch).
import type { ClickRow } from '../db/clicks';
import type { TermedOffer } from '../db/payout-rules';
import { type ConversionFlag, conversionFlags, isHeld } from './fraud';
import type { ConversionStatus } from './status';
import { checkConversionTime } from './time-rules';

export interface RuleInput {
  offer: Pick<TermedOffer, 'min_seconds_to_convert' | 'max_seconds_to_convert' | 'time_rule' | 'hold_flagged'>;
  /** The status the sender asked for (or the goal's default). */
  status: ConversionStatus;
  /** The signed click time (epoch ms) and the click row if it has landed; null without a click. */
  click: { clickedAt: number; row: Pick<ClickRow, 'is_bot' | 'asn'> | null } | null;
  now: number;
}

export interface RuleVerdict {
  status: ConversionStatus;
  /** Why a rule changed the status, else null. */
  reason: string | null;
  flags: ConversionFlag[];
}

export function decideNewConversion(input: RuleInput): RuleVerdict {
  const timeFlag = input.click ? checkConversionTime(input.offer, input.click.clickedAt, input.now) : null;
  const flags = conversionFlags(input.click?.row ?? null, timeFlag);
  if (timeFlag && input.offer.time_rule === 'reject') return { status: 'rejected', reason: timeFlag, flags };
  if (input.status === 'approved' && isHeld(input.offer.hold_flagged, flags)) {
    return { status: 'pending', reason: null, flags };
  }
  return { status: input.status, reason: null, flags };
}
