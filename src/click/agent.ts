// User-agent classification: link-preview bots and crawlers (flagged, never unique) and a
// coarse device class for reports.

const BOT =
  /bot\b|bot\/|crawler|spider|facebookexternalhit|facebot|slack-imgproxy|slackbot|linkedinbot|whatsapp|telegrambot|discordbot|skypeuripreview|embedly|pinterest|vkshare|redditbot|applebot|mastodon|google-inspectiontool|headlesschrome|preview|curl\/|wget\/|python-requests|go-http-client|okhttp|axios\/|node-fetch|httpclient/i;

export function isBot(userAgent: string | null | undefined): boolean {
  return !userAgent || BOT.test(userAgent);
}

export type Device = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

export function deviceClass(userAgent: string | null | undefined): Device {
  if (!userAgent) return 'unknown';
  if (BOT.test(userAgent)) return 'bot';
  if (/ipad|tablet|kindle|silk\/|playbook|(android(?!.*mobile))/i.test(userAgent)) return 'tablet';
  if (/mobi|iphone|ipod|android|windows phone|opera mini|blackberry/i.test(userAgent)) return 'mobile';
  return 'desktop';
}
