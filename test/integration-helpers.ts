// Helpers for the store integration tests: sign bodies as Stripe and Shopify do (computed here
// with WebCrypto, independently of src/integrations/signatures.ts), build their events, send them.
import { env } from 'cloudflare:workers';
import { adminOk, worker } from './helpers';

const encoder = new TextEncoder();

async function hmac(secret: string, data: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(data)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The hex v1 signature of `${t}.${body}`. */
export const stripeV1 = async (body: string, secret: string, t: number) => hex(await hmac(secret, `${t}.${body}`));

export async function stripeHeader(body: string, secret: string, t = nowSeconds()): Promise<string> {
  return `t=${t},v1=${await stripeV1(body, secret, t)}`;
}

export async function shopifyHmac(body: string, secret: string): Promise<string> {
  return btoa(String.fromCharCode(...(await hmac(secret, body))));
}

export async function setIntegrationSecret(advertiserId: number, provider: 'stripe' | 'shopify', secret: string) {
  await adminOk('PUT', `/advertisers/${advertiserId}/integrations/${provider}`, { secret });
}

export interface HookAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
  body: any;
}

export async function postHook(path: string, body: string, headers: Record<string, string>): Promise<HookAnswer> {
  const res = await worker(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

let serial = 0;
export const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++serial).toString(36)}`;

export function checkoutSessionCompleted(session: Record<string, unknown>, eventId = uid('evt')): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2025-01-27.acacia',
    created: nowSeconds(),
    type: 'checkout.session.completed',
    livemode: false,
    data: {
      object: {
        id: uid('cs_test'),
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        status: 'complete',
        currency: 'eur',
        amount_subtotal: 4999,
        amount_total: 4999,
        payment_intent: uid('pi'),
        metadata: {},
        ...session,
      },
    },
  });
}

export function chargeRefunded(charge: Record<string, unknown>, eventId = uid('evt')): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    created: nowSeconds(),
    type: 'charge.refunded',
    data: { object: { id: uid('ch'), object: 'charge', currency: 'eur', metadata: {}, ...charge } },
  });
}

export async function integrationLogRows(advertiserId: number, profile: 'stripe' | 'shopify') {
  const { results } = await env.DB.prepare(
    'SELECT * FROM postback_log WHERE advertiser_id = ? AND profile = ? ORDER BY id',
  )
    .bind(advertiserId, profile)
    .all<Record<string, unknown>>();
  return results;
}

export async function conversionsOfAdvertiser(advertiserId: number) {
  const { results } = await env.DB.prepare('SELECT * FROM conversions WHERE advertiser_id = ? ORDER BY created_at, id')
    .bind(advertiserId)
    .all<Record<string, unknown>>();
  return results;
}
