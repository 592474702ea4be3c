// The rules that decide how a new conversion starts, beyond what its sender asked for: the
// click-to-conversion time rule, fraud flags and the hold of flagged conversions, at creation
// and again when a click that the conversion beat lands. Pure; this is the one place a new rule
// adds its verdict (caps add theirs in the write batch, src/terms/cap-guard.ts).
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

export interface LandedClickInput {
  offer: RuleInput['offer'];
  /** The conversion as it was created before its click landed. */
  status: ConversionStatus;
  /** When it was created and the signed click time (both ISO). */
  createdAt: string;
  clickTime: string;
  click: Pick<ClickRow, 'is_bot' | 'asn'>;
}

/**
 * The verdict on a conversion that was created before its click row landed, now that it has:
 * the same rules, run as if the click had been there at its creation. Its flags gain the
 * click's (bot_click, datacenter_asn); a held offer keeps a now flagged conversion created
 * approved pending. The time rule reads the signed click time, known at creation, so its flag
 * and any rejection were decided then and come out the same here.
 */
export function decideOnLandedClick(input: LandedClickInput): RuleVerdict {
  return decideNewConversion({
    offer: input.offer,
    status: input.status,
    click: { clickedAt: Date.parse(input.clickTime), row: input.click },
    now: Date.parse(input.createdAt),
  });
}
