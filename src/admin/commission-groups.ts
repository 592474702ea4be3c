// Commission groups in the offers API. A goal prices the product lines of a group with its own
// rule; the group itself (Awin's commissionGroups: a stable id, code, name, description) is one
// per code across the whole offer, so two goals naming one code must agree on its name and
// description.
import * as z from 'zod';
import type { CommissionGroupValues } from '../db/commission-groups';
import type { FieldErrors } from '../lib/errors';

const groupCodeText = z.string().trim().min(1).max(64);

/** The group's own fields in a goal's commission_groups entry (its rule fields come beside them). */
export const commissionGroupFields = {
  key: groupCodeText
    .optional()
    .describe("The group's code, as postbacks name it on product lines (Awin's code); required unless code is given"),
  code: groupCodeText.optional().describe('Alias of key'),
  name: z.string().trim().min(1).max(100).optional().describe("Display name (Awin's name; a new group: its code)"),
  description: z
    .string()
    .trim()
    .max(500)
    .nullable()
    .optional()
    .describe("What the group covers (Awin's description); omitted keeps it, null or empty clears it"),
};

export interface CommissionGroupFields {
  key?: string;
  code?: string;
  name?: string;
  description?: string | null;
}

/** The group's code: `key`, or its alias `code`; undefined (with an error) when neither or two differ. */
export function groupCode(group: CommissionGroupFields, path: string, errors: FieldErrors): string | undefined {
  if (group.key !== undefined && group.code !== undefined && group.key !== group.code) {
    errors[`${path}.code`] = 'differs from key (code is an alias of key: give one)';
    return undefined;
  }
  const code = group.key ?? group.code;
  if (code === undefined) errors[`${path}.key`] = "required: the group's code as product lines name it (or code)";
  return code;
}

/**
 * The groups to store, one per code, from every goal's commission_groups; a name or description
 * that contradicts an earlier mention of the same code is an error on that field.
 */
export function collectGroups(
  goals: { commission_groups?: CommissionGroupFields[] }[],
  errors: FieldErrors,
): CommissionGroupValues[] {
  const byCode = new Map<string, CommissionGroupValues>();
  goals.forEach((goal, i) => {
    goal.commission_groups?.forEach((group, k) => {
      const path = `goals.${i}.commission_groups.${k}`;
      // A group without a code is reported by groupCode, as its goal's rules are planned.
      const code = group.key ?? group.code;
      if (code === undefined) return;
      const description = group.description === '' ? null : group.description;
      const seen = byCode.get(code);
      if (!seen) {
        byCode.set(code, { code, name: group.name, description });
        return;
      }
      if (group.name !== undefined) {
        if (seen.name !== undefined && seen.name !== group.name) {
          errors[`${path}.name`] = `group ${code} is named ${JSON.stringify(seen.name)} in another goal`;
        }
        seen.name = group.name;
      }
      if (description !== undefined) {
        if (seen.description !== undefined && seen.description !== description) {
          errors[`${path}.description`] = `group ${code} has another description in another goal`;
        }
        seen.description = description;
      }
    });
  });
  return [...byCode.values()];
}
