// Autonomous systems of major cloud and hosting providers. A click whose ASN is one of these
// came from a server, not from a person's access network, so a conversion of that click is
// flagged `datacenter_asn` (a fraud signal, not a refusal: VPNs and corporate proxies live here
// too).
//
// Source: the networks' own registrations (RIR whois / PeeringDB net records, "as name"),
// compiled 2026-12-01 for Clickhop. Only ASNs whose registrant is a cloud or hosting business
// and whose traffic is servers; CDNs that also carry end users (Cloudflare's WARP on AS13335,
// Google's AS15169 carrying Google Fi and Chrome proxies) are deliberately left out. To update:
// check each number on PeeringDB (https://www.peeringdb.com/asn/<n>), add new ones with the
// date, and keep the list sorted.
export const DATACENTER_ASNS_UPDATED = '2026-12-01';

export const DATACENTER_ASNS: ReadonlyMap<number, string> = new Map([
  [8075, 'Microsoft Azure'],
  [8100, 'QuadraNet'],
  [9009, 'M247'],
  [12876, 'Scaleway'],
  [14061, 'DigitalOcean'],
  [14618, 'Amazon AWS'],
  [16265, 'Leaseweb'],
  [16276, 'OVHcloud'],
  [16509, 'Amazon AWS'],
  [19527, 'Google Cloud'],
  [20473, 'Vultr (Choopa)'],
  [24940, 'Hetzner Online'],
  [26496, 'GoDaddy'],
  [27357, 'Rackspace'],
  [28753, 'Leaseweb'],
  [31898, 'Oracle Cloud'],
  [36351, 'IBM Cloud (SoftLayer)'],
  [36352, 'ColoCrossing'],
  [37963, 'Alibaba Cloud'],
  [40676, 'Psychz Networks'],
  [45090, 'Tencent Cloud'],
  [45102, 'Alibaba Cloud'],
  [47583, 'Hostinger'],
  [51167, 'Contabo'],
  [60781, 'Leaseweb'],
  [63949, 'Akamai Connected Cloud (Linode)'],
  [132203, 'Tencent Cloud'],
  [396982, 'Google Cloud'],
]);

export const isDatacenterAsn = (asn: number | null | undefined): boolean =>
  asn !== null && asn !== undefined && DATACENTER_ASNS.has(asn);
