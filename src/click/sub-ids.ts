// The publisher's sub IDs and creative ids of a click link. Publishers moving from other
// networks keep their links: TUNE's aff_sub.., Awin's clickref.. and impact's subId.. are read
// as aliases of sub1..sub6. Pure, on the redirect path: a handful of URLSearchParams lookups.

export const SUB_COUNT = 6;

/**
 * The names read for each of sub1..sub6, in precedence order: the canonical name first, then
 * TUNE, Awin, impact. The first of them with a non-empty value gives the sub ID; the others are
 * ignored (not stored, not checked). Of a name given twice, the first occurrence counts.
 */
export const SUB_ID_NAMES: readonly (readonly string[])[] = [
  ['sub1', 'aff_sub', 'clickref', 'subId1'],
  ['sub2', 'aff_sub2', 'clickref2', 'subId2'],
  ['sub3', 'aff_sub3', 'clickref3', 'subId3'],
  ['sub4', 'aff_sub4', 'clickref4'],
  ['sub5', 'aff_sub5', 'clickref5'],
  ['sub6', 'clickref6'],
];

const MAX_SUB_LENGTH = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: sub IDs with control characters are refused
const CONTROL = /[\u0000-\u001f\u007f]/;
// Awin's bannerId and groupId are whole numbers; 0 is what Awin itself sends for "none".
const CREATIVE_ID = /^(0|[1-9]\d{0,14})$/;

export interface ClickLinkIds {
  /** sub1..sub6; null when no name of that slot had a value. */
  subs: (string | null)[];
  creative_id: number | null;
  creative_group_id: number | null;
}

/** Why a link's parameter was refused: the parameter as the link named it, and a message. */
export interface LinkParamError {
  field: string;
  message: string;
}

export function parseClickLinkIds(query: URLSearchParams): ClickLinkIds | LinkParamError {
  const subs: (string | null)[] = [];
  for (const names of SUB_ID_NAMES) {
    let sub: string | null = null;
    for (const name of names) {
      const value = query.get(name);
      if (value === null || value === '') continue;
      if (value.length > MAX_SUB_LENGTH || CONTROL.test(value)) {
        return {
          field: name,
          message: `${name} must be at most ${MAX_SUB_LENGTH} characters with no control characters`,
        };
      }
      sub = value;
      break;
    }
    subs.push(sub);
  }
  const creative = creativeId(query, 'creative_id');
  if (typeof creative === 'object' && creative !== null) return creative;
  const group = creativeId(query, 'creative_group_id');
  if (typeof group === 'object' && group !== null) return group;
  return { subs, creative_id: creative, creative_group_id: group };
}

export const isLinkParamError = (parsed: ClickLinkIds | LinkParamError): parsed is LinkParamError => 'field' in parsed;

function creativeId(query: URLSearchParams, name: string): number | null | LinkParamError {
  const value = query.get(name);
  if (value === null || value === '') return null;
  if (!CREATIVE_ID.test(value)) return { field: name, message: `${name} must be a whole number (0 or more)` };
  return Number(value);
}
