// Smart links: which of a link's offers a visitor may be sent to, and the weighted choice among
// them. Pure but for the random number, which the caller passes in.
import type { Device } from '../click/agent';

export const SMART_LINK_DEVICES = ['desktop', 'mobile', 'tablet'] as const;

export interface SmartLinkRule {
  offerId: number;
  weight: number;
  /** Upper-case ISO 3166 alpha-2 codes; null = any country. */
  countries: string[] | null;
  /** null = any device. */
  devices: string[] | null;
}

export interface SmartLinkConfig {
  id: number;
  rules: SmartLinkRule[];
}

/** A rule matches the visitor when its country and device lists (if any) name them. */
export function matchesVisitor(rule: SmartLinkRule, country: string | null, device: Device): boolean {
  if (rule.countries && (country === null || !rule.countries.includes(country))) return false;
  if (rule.devices && !rule.devices.includes(device)) return false;
  return true;
}

/**
 * Picks one of the eligible rules with probability weight / total weight; `random` is in [0, 1).
 * Null when none is eligible.
 */
export function pickByWeight<T extends { weight: number }>(eligible: readonly T[], random: number): T | null {
  let total = 0;
  for (const rule of eligible) total += rule.weight;
  if (total <= 0) return null;
  let point = random * total;
  for (const rule of eligible) {
    point -= rule.weight;
    if (point < 0) return rule;
  }
  return eligible[eligible.length - 1] ?? null;
}
