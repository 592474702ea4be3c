// Worker entry: HTTP (click, postback, admin), Queue consumers and the cron, each delegating.
import { app } from './app';
import { type ClicksMessage, consumeClicks } from './click/ingest';
import { handleClick, matchClickPath } from './click/route';
import { runScheduled } from './cron';

// Durable Object classes are the one kind of export workerd accepts beside the handlers.
export { ClickPartition } from './clicks/partition';

import { errorResponse } from './lib/error-response';
import { log } from './lib/log';
import { consumeValidations } from './month/validation-apply';
import { VALIDATIONS_QUEUE_NAME, type ValidationMessage } from './month/validations';
import { consumeNotifications, NOTIFICATIONS_QUEUE_NAME, type NotificationMessage } from './notify';

// Queue names as in wrangler.jsonc (the entry module may export only handlers: workerd refuses others).
const CLICKS_QUEUE_NAME = 'clickhop-clicks';

export default {
  async fetch(request, env, ctx) {
    // Click links skip the router (the same handler as the app's /c/ route, see matchClickPath).
    const click = matchClickPath(request);
    if (!click) return app.fetch(request, env, ctx);
    try {
      return await handleClick(request, env, ctx, click[0], click[1]);
    } catch (error) {
      return errorResponse(error, request);
    }
  },

  async queue(batch, env) {
    if (batch.queue === CLICKS_QUEUE_NAME) return consumeClicks(batch as MessageBatch<ClicksMessage>, env);
    if (batch.queue === NOTIFICATIONS_QUEUE_NAME) {
      return consumeNotifications(batch as MessageBatch<NotificationMessage>, env);
    }
    if (batch.queue === VALIDATIONS_QUEUE_NAME)
      return consumeValidations(batch as MessageBatch<ValidationMessage>, env);
    log('error', 'queue.unknown', { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 300 });
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
