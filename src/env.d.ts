// Secrets are not in wrangler.jsonc, so `wrangler types` cannot see them; they are declared here
// for both the global Env (handlers) and Cloudflare.Env (`cloudflare:workers` in tests).
interface ClickhopSecrets {
  ADMIN_TOKEN: string;
  CLICK_ID_SECRET: string;
  CLICK_ID_PREVIOUS_SECRETS?: string;
}

interface Env extends ClickhopSecrets {}

declare namespace Cloudflare {
  interface Env extends ClickhopSecrets {}
}

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('./index');
  }
}
