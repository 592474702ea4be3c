// The portal's page shell: the dashboard's stylesheet (same look) plus a few rules for
// navigation and forms, a header naming who is signed in, a role's navigation, and a sign-out
// form. No script anywhere; every value goes through the escaping `html` tag.
import type { Role } from '../auth/principal';
import { html, raw, type SafeHtml } from '../dashboard/html';
import { STYLESHEET } from '../dashboard/render';

const PORTAL_RULES = `
nav.portal{display:flex;flex-wrap:wrap;gap:4px 14px;max-width:1180px;margin:10px auto 0;padding:0 20px}
nav.portal a{color:var(--fg);text-decoration:none;padding:4px 0;border-bottom:2px solid transparent}
nav.portal a[aria-current=page]{border-bottom-color:var(--clicks);font-weight:600}
a{color:var(--clicks)}
form.stack{display:grid;gap:10px;max-width:420px}
form.inline{display:inline}
label{display:grid;gap:3px;font-size:13px;color:var(--muted)}
textarea{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:7px 9px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);min-width:0;width:100%;box-sizing:border-box}
.field-error{color:var(--bad);font-size:13px;margin-top:-6px}
ul.terms{margin:0;padding-left:16px;font-size:13px}
input,select,button{font:inherit;padding:7px 9px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);min-width:0}
button{background:var(--clicks);border-color:var(--clicks);color:#fff;cursor:pointer;font-weight:600}
button.plain{background:var(--card);color:var(--fg);border-color:var(--line);font-weight:400}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
.notice{border-left:4px solid var(--ok);padding:8px 12px;background:var(--card);margin:12px 0}
.notice.error{border-left-color:var(--bad)}
.secret{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all;background:var(--bg);padding:6px 8px;border-radius:4px;display:block}
pre{white-space:pre-wrap;word-break:break-all;margin:6px 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.who{margin-left:auto;display:flex;gap:10px;align-items:baseline;color:var(--muted)}
main.narrow{max-width:460px}
.page-title{margin:16px 0 0;font-size:18px}
.document-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:8px 24px;margin-bottom:12px}
dl.facts{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
@media print{header,nav.portal,footer,form,.no-print,.notice,.page-title{display:none!important}
:root{--bg:#fff;--fg:#000;--card:#fff;--muted:#333;--line:#999}
body{font-size:11px}main{max-width:none;padding:0}section,article{border:0;padding:0;margin:0}
thead{display:table-header-group}tr{break-inside:avoid}a{color:inherit;text-decoration:none}}
`;

/** The one stylesheet of every portal page (its hash goes into the Content-Security-Policy). */
export const PORTAL_STYLESHEET = STYLESHEET + PORTAL_RULES;

export interface NavItem {
  href: string;
  label: string;
}

export const NAV: Record<Role, NavItem[]> = {
  publisher: [
    { href: '/portal', label: 'Offers' },
    { href: '/portal/reports', label: 'Reports' },
    { href: '/portal/conversions', label: 'Conversions' },
    { href: '/portal/claims', label: 'Claims' },
    { href: '/portal/coupons', label: 'Coupons' },
    { href: '/portal/endpoints', label: 'Notifications' },
    { href: '/portal/deliveries', label: 'Delivery log' },
    { href: '/portal/statements', label: 'Statements' },
    { href: '/portal/keys', label: 'API keys' },
    { href: '/portal/account', label: 'Account' },
  ],
  advertiser: [
    { href: '/portal', label: 'Offers' },
    { href: '/portal/integration', label: 'Integration' },
    { href: '/portal/reports', label: 'Reports' },
    { href: '/portal/conversions', label: 'Conversions' },
    { href: '/portal/validations', label: 'Validation' },
    { href: '/portal/claims', label: 'Claims' },
    { href: '/portal/postbacks', label: 'Postback log' },
    { href: '/portal/invoices', label: 'Invoices' },
    { href: '/portal/keys', label: 'API keys' },
    { href: '/portal/account', label: 'Account' },
  ],
  operator: [
    { href: '/portal', label: 'Overview' },
    { href: '/portal/reports', label: 'Reports' },
    { href: '/portal/conversions', label: 'Conversions' },
    { href: '/portal/validations', label: 'Validation' },
    { href: '/portal/claims', label: 'Claims' },
    { href: '/portal/deliveries', label: 'Deliveries' },
    { href: '/portal/applications', label: 'Applications' },
    { href: '/portal/statements', label: 'Statements' },
    { href: '/portal/invoices', label: 'Invoices' },
    { href: '/portal/people', label: 'People' },
    { href: '/portal/keys', label: 'API keys' },
    { href: '/portal/audit', label: 'Audit log' },
    { href: '/portal/account', label: 'Account' },
  ],
};

export interface Viewer {
  role: Role;
  email: string;
  /** The publisher's or advertiser's name, or "Operator". */
  party: string;
  csrf: string;
}

/** The hidden field every form of a session carries. */
export const csrfField = (token: string): SafeHtml => html`<input type="hidden" name="_csrf" value="${token}">`;

function head(title: string): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} · Clickhop</title>
<style>${raw(PORTAL_STYLESHEET)}</style>
</head>`;
}

/** A signed-in page: header, role navigation with the current page marked, content. */
export function page(viewer: Viewer, current: string, title: string, content: SafeHtml | SafeHtml[]): string {
  const nav = NAV[viewer.role].map(
    (item) => html`<a href="${item.href}"${item.href === current ? raw(' aria-current="page"') : ''}>${item.label}</a>`,
  );
  return html`${head(title)}
<body>
<header><h1>Clickhop</h1><p>${viewer.party} · ${viewer.role} portal</p>
<div class="who"><span id="signed-in-as">${viewer.email}</span>
<form class="inline" method="post" action="/portal/logout">${csrfField(viewer.csrf)}<button class="plain" type="submit">Sign out</button></form></div>
</header>
<nav class="portal" aria-label="Portal">${nav}</nav>
<main>
<h2 class="page-title">${title}</h2>
${content}
</main>
<footer>Times are UTC. Reports come from daily rollups.</footer>
</body>
</html>
`.toString();
}

/** A page for someone not signed in (sign-in, invitation). */
export function publicPage(title: string, content: SafeHtml): string {
  return html`${head(title)}
<body>
<header><h1>Clickhop</h1><p>Partner portal</p></header>
<main class="narrow">
${content}
</main>
</body>
</html>
`.toString();
}

export const notice = (text: string | null | undefined, kind: 'ok' | 'error' = 'ok'): SafeHtml | null =>
  text
    ? html`<p class="notice${kind === 'error' ? ' error' : ''}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`
    : null;
