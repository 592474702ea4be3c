// XML for publishers who ask for it (impact.com offers query, JSON and XML): the JSON payload
// written as elements, and the escaping and well-formedness check that body templates use.
// Text is escaped so that any parser gives back the value byte for byte: markup characters and
// quotes become entities, and tab, LF and CR become character references (a parser would
// otherwise normalise CR and, in attribute values, every whitespace character).

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 cannot carry at all
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const SPECIAL = /[&<>"'\t\n\r]/g;
const ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** A value safe as XML text or as an attribute value (either quote). */
export function escapeXml(value: string): string {
  return value
    .toWellFormed()
    .replace(NOT_XML, '\ufffd')
    .replace(SPECIAL, (ch) => ENTITY[ch] as string);
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The element name of an array's items: `products` -> `product`, else `item`. */
const itemName = (list: string) => (list.length > 1 && list.endsWith('s') ? list.slice(0, -1) : 'item');

function element(name: string, value: Json): string {
  const tag = NAME.test(name) ? name : 'field';
  if (value === null) return `<${tag}/>`;
  if (Array.isArray(value)) return `<${tag}>${value.map((v) => element(itemName(tag), v)).join('')}</${tag}>`;
  if (typeof value === 'object') {
    return `<${tag}>${Object.entries(value)
      .map(([k, v]) => element(k, v))
      .join('')}</${tag}>`;
  }
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

/** The JSON envelope as an XML document with root <notification>; null fields are empty elements. */
export function xmlDocument(envelope: { [key: string]: Json }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element('notification', envelope)}`;
}

const XML_NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const REFERENCE = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;

/**
 * Why a document is not well-formed XML, or null. Enough of XML 1.0 for request bodies: one
 * root element, matching tags, quoted attributes, known references, comments, CDATA and
 * processing instructions; no DOCTYPE (no entity definitions to expand).
 */
export function xmlProblem(doc: string): string | null {
  const open: string[] = [];
  let roots = 0;
  let i = 0;
  const text = (chunk: string): string | null => {
    for (let k = chunk.indexOf('&'); k >= 0; k = chunk.indexOf('&', k + 1)) {
      if (!REFERENCE.test(chunk.slice(k))) return `a bare & at character ${i + k} (write &amp;)`;
    }
    if (open.length === 0 && chunk.trim() !== '') return 'text outside the root element';
    return null;
  };
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const problem = text(lt < 0 ? doc.slice(i) : doc.slice(i, lt));
    if (problem) return problem;
    if (lt < 0) break;
    i = lt;
    const rest = doc.slice(i);
    if (rest.startsWith('<?')) {
      const end = doc.indexOf('?>', i);
      if (end < 0) return 'an unclosed processing instruction';
      i = end + 2;
    } else if (rest.startsWith('<!--')) {
      const end = doc.indexOf('-->', i + 4);
      if (end < 0) return 'an unclosed comment';
      i = end + 3;
    } else if (rest.startsWith('<![CDATA[')) {
      if (open.length === 0) return 'CDATA outside the root element';
      const end = doc.indexOf(']]>', i);
      if (end < 0) return 'an unclosed CDATA section';
      i = end + 3;
    } else if (rest.startsWith('<!')) {
      return 'DOCTYPE and declarations are not allowed';
    } else if (rest.startsWith('</')) {
      const name = XML_NAME.exec(rest.slice(2))?.[0];
      const close = /^\s*>/.exec(rest.slice(2 + (name?.length ?? 0)));
      if (!name || !close) return `a malformed end tag at character ${i}`;
      if (open.pop() !== name) return `</${name}> does not close the open element`;
      i += 2 + name.length + close[0].length;
    } else {
      const name = XML_NAME.exec(rest.slice(1))?.[0];
      if (!name) return `a malformed tag at character ${i}`;
      let j = i + 1 + name.length;
      const seen = new Set<string>();
      for (;;) {
        const attr = /^\s+([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(doc.slice(j));
        if (!attr) break;
        const [whole, attrName, , double, single] = attr;
        if (seen.has(attrName as string)) return `attribute ${attrName} given twice`;
        seen.add(attrName as string);
        const value = double ?? single ?? '';
        for (let k = value.indexOf('&'); k >= 0; k = value.indexOf('&', k + 1)) {
          if (!REFERENCE.test(value.slice(k))) return `a bare & in attribute ${attrName}`;
        }
        j += whole.length;
      }
      const end = /^\s*(\/?)>/.exec(doc.slice(j));
      if (!end) return `a malformed tag <${name}>`;
      if (open.length === 0 && roots++ > 0) return 'more than one root element';
      if (end[1] !== '/') open.push(name);
      i = j + end[0].length;
    }
  }
  if (open.length > 0) return `<${open[open.length - 1]}> is not closed`;
  if (roots === 0) return 'no root element';
  return null;
}
