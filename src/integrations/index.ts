// Store integrations: webhooks from the advertiser's own shop system, signed with the secret the
// advertiser set (src/admin/integrations.ts), turned into conversions on the postback path.
import { Hono } from 'hono';
import { shopifyWebhook } from './shopify';
import { stripeWebhook } from './stripe';
import type { WebhookEnv } from './webhook';

export const integrationWebhooks = new Hono<WebhookEnv>();

integrationWebhooks.post('/integrations/stripe/:advertiserId', (c) => stripeWebhook(c));
integrationWebhooks.post('/integrations/shopify/:advertiserId', (c) => shopifyWebhook(c));
