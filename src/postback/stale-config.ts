/**
 * Thrown when a postback working from an isolate's memory (config-cache.ts) finds that the config
 * changed since that memory was read. Nothing was written: the request starts again from a read
 * batch.
 */
export class StaleConfig extends Error {
  constructor() {
    super('The config changed since this isolate read it');
  }
}
