// The parking code's view of the queues (src/parked/queues.ts) is wrangler.jsonc's: every
// dead-letter queue is consumed and mapped to the queue it catches for, and the delivery budget
// a parked message records is that queue's max_retries + 1.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { DEAD_LETTER_SOURCES, DELIVERY_BUDGET, SOURCE_QUEUES } from '../../src/parked/queues';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = unstable_readConfig({ config: join(root, 'wrangler.jsonc') }, { hideWarnings: true });
type Consumer = { queue: string; dead_letter_queue?: string; max_retries?: number };
const consumers: Consumer[] = config.queues.consumers ?? [];

describe('parked queues against wrangler.jsonc', () => {
  it('maps each dead-letter queue to its source queue, and consumes every one of them', () => {
    const fromConfig = Object.fromEntries(
      consumers.filter((c) => c.dead_letter_queue).map((c) => [c.dead_letter_queue, c.queue]),
    );
    expect(DEAD_LETTER_SOURCES).toEqual(fromConfig);
    expect([...SOURCE_QUEUES].sort()).toEqual(Object.values(fromConfig).sort());
    for (const dlq of Object.keys(fromConfig)) expect(consumers.map((c) => c.queue)).toContain(dlq);
  });

  it('records the delivery budget each source queue gives a message before its DLQ', () => {
    for (const queue of SOURCE_QUEUES) {
      const consumer = consumers.find((c) => c.queue === queue);
      expect(DELIVERY_BUDGET[queue], queue).toBe((consumer?.max_retries ?? 3) + 1);
    }
  });
});
