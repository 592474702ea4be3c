// What a principal may see, as the filters its reads carry. Operators see everything; a
// publisher or advertiser sees its own rows, and a row of another party reads as missing.
import type { Principal } from './principal';

export interface PartyFilter {
  publisher_id?: number;
  advertiser_id?: number;
}

/** The filter a scoped list adds; {} for an operator. */
export function partyFilter(principal: Principal): PartyFilter {
  if (principal.role === 'publisher') return { publisher_id: principal.publisherId };
  if (principal.role === 'advertiser') return { advertiser_id: principal.advertiserId };
  return {};
}

/** Whether a row carrying party columns belongs to the principal. */
export function owns(
  principal: Principal,
  row: { publisher_id?: number | null; advertiser_id?: number | null },
): boolean {
  if (principal.role === 'publisher') return row.publisher_id === principal.publisherId;
  if (principal.role === 'advertiser') return row.advertiser_id === principal.advertiserId;
  return true;
}
