/**
 * JSON.parse for one JSONL line that keeps big integers exact: every integer
 * literal outside strings whose magnitude exceeds Number.MAX_SAFE_INTEGER is
 * turned into a decimal string before parsing (message rows accept decimal
 * strings for msg_id), so 9223372036854775807 is never rounded to a double.
 */

const MAX_SAFE_TEXT = String(Number.MAX_SAFE_INTEGER); // 9007199254740991, 16 digits
/** Any integer beyond 2^53 has at least 16 digits: lines without such a run need no scan. */
const LONG_DIGIT_RUN = /\d{16}/;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** True when the digits `text[from, to)` (no sign, no leading zero) exceed MAX_SAFE_INTEGER. */
function beyondSafe(text: string, from: number, to: number): boolean {
  const len = to - from;
  if (len !== MAX_SAFE_TEXT.length) return len > MAX_SAFE_TEXT.length;
  return text.slice(from, to) > MAX_SAFE_TEXT;
}

/**
 * Quotes the unsafe integer literals of a JSON text, leaving everything else
 * (strings with escapes, floats, exponents, safe integers) untouched.
 * Invalid JSON stays invalid: only a well-formed integer token is quoted.
 */
export function quoteBigIntegers(text: string): string {
  let out = '';
  let copied = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string, honouring backslash escapes.
      i++;
      while (i < n) {
        const s = text.charCodeAt(i);
        if (s === 92 /* \ */) i += 2;
        else if (s === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || isDigit(c)) {
      const start = i;
      if (c === 45) i++;
      const digitsFrom = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      const digitsTo = i;
      // A fraction or exponent makes it a float: leave it to JSON.parse.
      let isInteger = true;
      while (i < n) {
        const f = text.charCodeAt(i);
        if (f === 46 /* . */ || f === 101 /* e */ || f === 69 /* E */ || ((f === 43 || f === 45) && isInteger === false) || isDigit(f)) {
          isInteger = false;
          i++;
        } else break;
      }
      const wellFormed = digitsTo > digitsFrom && text.charCodeAt(digitsFrom) !== 48 /* no leading 0 */;
      if (isInteger && wellFormed && beyondSafe(text, digitsFrom, digitsTo)) {
        out += text.slice(copied, start) + '"' + text.slice(start, digitsTo) + '"';
        copied = digitsTo;
      }
      continue;
    }
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Parses one JSON line; integers beyond 2^53 come back as decimal strings.
 * Throws SyntaxError for text that is not JSON.
 *
 * @example
 * parseJsonLine('{"msg_id":9223372036854775807}') // { msg_id: '9223372036854775807' }
 */
export function parseJsonLine(line: string): unknown {
  return JSON.parse(LONG_DIGIT_RUN.test(line) ? quoteBigIntegers(line) : line);
}
