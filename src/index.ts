// Worker entry: HTTP (click, postback, admin), Queue consumers (the two queues and their
// dead-letter queues) and the cron, each delegating.
import { app } from './app';
import { beaconPreflight, isBeaconPreflight } from './browser';
import { type ClicksMessage, consumeClicks } from './click/ingest';
import { handleClick, matchClickPath } from './click/route';
import { runScheduled } from './cron';

// Durable Object classes are the one kind of export workerd accepts beside the handlers.
export { ClickPartition } from './clicks/partition';

import { errorResponse } from './lib/error-response';
import { log } from './lib/log';
import { consumeValidations } from './month/validation-apply';
import { VALIDATIONS_QUEUE_NAME, type ValidationMessage } from './month/validations';
import { consumeNotifications, type NotificationMessage } from './notify';
import { CLICKS_QUEUE, consumeDeadLetters, DEAD_LETTER_SOURCES, NOTIFICATIONS_QUEUE, parkPoison } from './parked';

export default {
  async fetch(request, env, ctx) {
    // Click links skip the router (the same handler as the app's /c/ route, see matchClickPath).
    const click = matchClickPath(request);
    if (!click) return isBeaconPreflight(request) ? beaconPreflight() : app.fetch(request, env, ctx);
    try {
      return await handleClick(request, env, ctx, click[0], click[1]);
    } catch (error) {
      return errorResponse(error, request, env);
    }
  },

  async queue(batch, env) {
    // A poison message is parked before its consumer drops it; the dead-letter queues park all.
    if (batch.queue === CLICKS_QUEUE) {
      return consumeClicks(await parkPoison(batch as MessageBatch<ClicksMessage>, env, CLICKS_QUEUE), env);
    }
    if (batch.queue === NOTIFICATIONS_QUEUE) {
      const kept = await parkPoison(batch as MessageBatch<NotificationMessage>, env, NOTIFICATIONS_QUEUE);
      return consumeNotifications(kept, env);
    }
    if (Object.hasOwn(DEAD_LETTER_SOURCES, batch.queue)) return consumeDeadLetters(batch, env);
    if (batch.queue === VALIDATIONS_QUEUE_NAME)
      return consumeValidations(batch as MessageBatch<ValidationMessage>, env);
    log('error', 'queue.unknown', { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 300 });
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
