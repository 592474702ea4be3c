// The guides held to the code they describe (issue 22: docs said otherwise than the code): the
// notification events and macros a publisher can use, and the log events an operator can filter
// on, each listed in its guide, read from the same tables the Worker uses.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONVERSION_EVENT_TYPES } from '../../src/conversions/status';
import { AWIN_MACROS, CANONICAL_MACROS } from '../../src/notify/macros';

const doc = (name: string) => readFileSync(join('docs', name), 'utf8');

/** The first cells of a markdown table's rows that start with a code span, in order. */
function firstCells(markdown: string, header: string): string[] {
  const start = markdown.indexOf(header);
  if (start < 0) throw new Error(`no table with header ${header}`);
  const rows: string[] = [];
  for (const line of markdown.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(...[...(line.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));
  }
  return rows;
}

/** True when the guide documents a numbered macro as a range, e.g. `{sub1}` … `{sub5}`. */
function inDocumentedRange(guide: string, macro: string): boolean {
  const parts = /^(\{|!!!)([A-Za-z_]+?)(\d+)(\}|!!!)$/.exec(macro);
  if (!parts) return false;
  const [, open, stem, number] = parts as unknown as [string, string, string, string, string];
  const close = open === '{' ? '}' : '!!!';
  const quote = (text: string) => text.replace(/[{}!]/g, (c) => `\\${c}`);
  const one = `\`${quote(open)}${stem}(\\d+)${quote(close)}\``;
  return [...guide.matchAll(new RegExp(`${one} … ${one}`, 'g'))].some(
    ([, low, high]) => Number(low) <= Number(number) && Number(number) <= Number(high),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/publisher-notifications.md', () => {
  const guide = doc('publisher-notifications.md');

  it('lists every conversion event in its events table', () => {
    expect(firstCells(guide, '| event | sent when |')).toEqual([...CONVERSION_EVENT_TYPES]);
  });

  it('documents every macro an endpoint may use, in both syntaxes', () => {
    const undocumented = [
      ...Object.keys(CANONICAL_MACROS).map((name) => `{${name}}`),
      ...Object.keys(AWIN_MACROS).map((name) => `!!!${name}!!!`),
    ].filter((macro) => !guide.includes(`\`${macro}\``) && !inDocumentedRange(guide, macro));
    expect(undocumented).toEqual([]);
  });
});

describe('docs/logs.md', () => {
  it('lists every log event the code writes under a fixed name', () => {
    const documented = new Set(firstCells(doc('logs.md'), '| event | level | when | fields |'));
    const written = new Set<string>();
    for (const file of sourceFiles('src')) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\blog\(\s*[^,]+,\s*'([a-z_]+\.[a-z_.]+)'/g)) {
        written.add(match[1] as string);
      }
    }
    expect(written.size).toBeGreaterThan(20);
    expect([...written].filter((event) => !documented.has(event)).sort()).toEqual([]);
  });
});
