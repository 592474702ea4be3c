// User-agent classification: link-preview bots and crawlers (flagged, never unique) and a
// coarse device class for reports.
import { isbot } from 'isbot';
import { BoundedMap } from '../lib/bounded-map';

// Android browsers name the handset in "(Linux; Android 14; <model> Build/…)", and some models
// end in "bot" (RoboBot, "… Robot"). The model is the manufacturer's word, not the agent's
// description of itself, so it is blanked before matching; a crawler that poses as an Android
// phone still names itself after the parenthesis ("compatible; Googlebot/2.1").
const ANDROID_MODEL = /^(Mozilla\/5\.0 \(Linux; (?:U; )?Android [^;)]*; (?:[a-z]{2}[-_][a-z]{2,3}; )?)[^;)]*/i;

/** No user agent at all counts as a bot: browsers always send one. */
export function isBot(userAgent: string | null | undefined): boolean {
  if (!userAgent) return true;
  // Most clicks are people: one pass of isbot's pattern decides them; only a match is checked
  // again without the handset model.
  if (!isbot(userAgent)) return false;
  return !ANDROID_MODEL.test(userAgent) || isbot(userAgent.replace(ANDROID_MODEL, '$1model'));
}

export type Device = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

// Clicks repeat a few thousand browser versions: an isolate remembers the class of the agents it
// saw lately, so most clicks skip isbot's long pattern (the redirect's largest piece of our own
// CPU in the profile). Bounded, since user agents are whatever a request sends.
const seen = new BoundedMap<string, Device>(2_000);

export function deviceClass(userAgent: string | null | undefined): Device {
  if (!userAgent) return 'unknown';
  let device = seen.get(userAgent);
  if (device === undefined) {
    device = classify(userAgent);
    seen.set(userAgent, device);
  }
  return device;
}

function classify(userAgent: string): Device {
  if (isBot(userAgent)) return 'bot';
  // Android tablets leave out "Mobile"; the whole string is checked because in-app browsers
  // append their own "Android" after it ("… Mobile Safari/537.36 [Pinterest/Android]").
  if (/ipad|tablet|kindle|silk\/|playbook/i.test(userAgent)) return 'tablet';
  if (/android/i.test(userAgent) && !/mobile/i.test(userAgent)) return 'tablet';
  if (/mobi|iphone|ipod|android|windows phone|opera mini|blackberry/i.test(userAgent)) return 'mobile';
  return 'desktop';
}
