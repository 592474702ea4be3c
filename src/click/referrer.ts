// Search engine and search phrase from a click's referrer. Most engines no longer pass the
// phrase, so the engine is often known while the phrase is not.

interface Engine {
  name: string;
  host: RegExp;
  params: string[];
}

const ENGINES: Engine[] = [
  { name: 'Google', host: /(^|\.)google\.[a-z.]{2,7}$/, params: ['q', 'as_q'] },
  { name: 'Bing', host: /(^|\.)bing\.com$/, params: ['q'] },
  { name: 'Yahoo', host: /(^|\.)search\.yahoo\.(com|co\.jp|[a-z.]{2,6})$/, params: ['p', 'q'] },
  { name: 'DuckDuckGo', host: /(^|\.)duckduckgo\.com$/, params: ['q'] },
  { name: 'Yandex', host: /(^|\.)yandex\.(ru|com|com\.tr|by|kz|ua)$|(^|\.)ya\.ru$/, params: ['text'] },
  { name: 'Baidu', host: /(^|\.)baidu\.com$/, params: ['wd', 'word', 'kw'] },
  { name: 'Ecosia', host: /(^|\.)ecosia\.org$/, params: ['q'] },
  { name: 'Naver', host: /(^|\.)search\.naver\.com$/, params: ['query'] },
  { name: 'Seznam', host: /(^|\.)search\.seznam\.cz$/, params: ['q'] },
  { name: 'Qwant', host: /(^|\.)qwant\.com$/, params: ['q'] },
  { name: 'Startpage', host: /(^|\.)startpage\.com$/, params: ['query', 'q'] },
  { name: 'Brave', host: /(^|\.)search\.brave\.com$/, params: ['q'] },
];

export interface SearchSource {
  engine: string | null;
  phrase: string | null;
}

// The host of an absolute http(s) URL (user info and port skipped).
const REFERRER_HOST = /^https?:\/\/(?:[^/?#@]*@)?([^/?#:@]+)(?::\d*)?(?:[/?#]|$)/i;

const NONE: SearchSource = Object.freeze({ engine: null, phrase: null });

export function searchSource(referrer: string | null | undefined): SearchSource {
  if (!referrer) return NONE;
  // Most referrers are not search engines: recognise the host cheaply, parse the URL only for
  // a search engine's (the redirect runs this on every click).
  const host = REFERRER_HOST.exec(referrer)?.[1]?.toLowerCase();
  if (host === undefined) return NONE;
  const engine = ENGINES.find((candidate) => candidate.host.test(host));
  if (!engine) return NONE;
  let url: URL;
  try {
    url = new URL(referrer);
  } catch {
    return NONE;
  }
  for (const name of engine.params) {
    const value = url.searchParams.get(name)?.trim();
    if (value) return { engine: engine.name, phrase: value.slice(0, 255) };
  }
  return { engine: engine.name, phrase: null };
}
