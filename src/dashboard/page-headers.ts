// Security headers of the server-rendered pages (the dashboard and the API docs), through Hono's
// secureHeaders: a Content-Security-Policy allowing nothing but the page's own stylesheet,
// nosniff, no referrer, no framing, same-origin isolation. Each page adds its own caching.
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * The middleware for a page whose only resource is an inline stylesheet, allowed by `styleSrc`
 * (a hash, or 'unsafe-inline'). Built on the first request: a hash costs a digest, and a cold
 * isolate serving a click should not pay for it.
 */
export function pageSecurity(
  styleSrc: () => string,
  /** Where the page's forms may go: nowhere by default; the dashboard's date range reloads itself. */
  formAction: string[] = ["'none'"],
): MiddlewareHandler {
  let middleware: MiddlewareHandler | undefined;
  return (c, next) => {
    middleware ??= secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: [styleSrc()],
        baseUri: ["'none'"],
        formAction,
        frameAncestors: ["'none'"],
      },
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
      // The pages are served over whatever the deployment uses; HSTS belongs to the zone.
      strictTransportSecurity: false,
    });
    return middleware(c, next);
  };
}
