// Reading an uploaded CSV file as spreadsheets and exports write it: RFC 4180 quoting (quoted
// fields hold separators, quotes doubled, line breaks), CRLF, LF or CR line ends, a UTF-8 byte
// order mark, and a separator read from the header line (Excel in many European locales
// writes semicolons). Blank lines are skipped. Pure.
import { badRequest } from '../lib/errors';

/** Thrown as soon as a file has more records than asked for. */
export class TooManyRecords extends Error {}

export interface CsvRecord {
  /** The line of the file where the record starts (the header is line 1). */
  line: number;
  fields: string[];
}

export interface CsvFile {
  separator: ',' | ';' | '\t';
  header: CsvRecord;
  records: CsvRecord[];
}

const SEPARATORS = [',', ';', '\t'] as const;

/** The separator the header line uses most outside quotes (a comma when it has none). */
function detectSeparator(text: string): CsvFile['separator'] {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && (SEPARATORS as readonly string[]).includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best: CsvFile['separator'] = ',';
  for (const sep of SEPARATORS) if ((counts.get(sep) ?? 0) > (counts.get(best) ?? 0)) best = sep;
  return best;
}

/**
 * Splits `text` into records. A quote that is never closed, or text after a closing quote,
 * is a 400 naming the line, so a broken file never half-reads.
 */
export function parseCsv(input: string, maxRecords = Number.POSITIVE_INFINITY): CsvFile {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const separator = detectSeparator(text);
  const records: CsvRecord[] = [];
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    // A blank line (or one of only separators and spaces) is no record.
    if (fields.some((f) => f.trim() !== '')) records.push({ line: start, fields });
    // Past the limit reading stops: the caller refuses the file, naming the limit.
    if (records.length > maxRecords + 1) throw new TooManyRecords();
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' && field.trim() === '') {
      // A quoted field: read to its closing quote, "" being one quote.
      const opened = line;
      field = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw badRequest(`Line ${opened}: a quoted field is never closed`, {
            file: `line ${opened}: unclosed quote`,
          });
        const q = text[i] as string;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\r' && text[i + 1] === '\n') {
          field += '\n';
          i += 2;
          line++;
          continue;
        }
        if (q === '\n' || q === '\r') line++;
        field += q === '\r' ? '\n' : q;
        i++;
      }
      // Only spaces may follow the closing quote before the separator or the line end.
      while (text[i] === ' ') i++;
      const next = text[i];
      if (next !== undefined && next !== separator && next !== '\n' && next !== '\r') {
        throw badRequest(`Line ${line}: text after a closing quote`, {
          file: `line ${line}: text after a closing quote`,
        });
      }
      continue;
    }
    if (ch === separator) {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      start = line;
      continue;
    }
    field += ch;
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  const [header, ...rest] = records;
  if (!header) throw badRequest('The file is empty: it needs a header line and rows', { file: 'is empty' });
  return { separator, header, records: rest };
}
