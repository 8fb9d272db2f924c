/**
 * Docker's word processing for Dockerfile arguments (moby/buildkit frontend/dockerfile/shell lex.go,
 * the parts the classic builder and BuildKit agree on): quotes, the escape character, and variable
 * expansion ($X, ${X}, ${X:-word}, ${X-word}, ${X:+word}, ${X+word}). Pure.
 */

export type Vars = ReadonlyMap<string, string>;

export class WordError extends Error {}

interface Lexer {
  text: string;
  pos: number;
  escape: string;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

function readVariable(lx: Lexer, vars: Vars): string {
  // lx.pos is just after '$'
  const c = lx.text[lx.pos];
  if (c === '{') {
    lx.pos++;
    let name = '';
    while (lx.pos < lx.text.length && NAME_CHAR.test(lx.text[lx.pos])) name += lx.text[lx.pos++];
    if (!name) throw new WordError(`bad substitution in "${lx.text}"`);
    const rest = lx.text[lx.pos];
    if (rest === '}') {
      lx.pos++;
      return vars.get(name) ?? '';
    }
    let op = '';
    if (rest === ':') {
      op = ':';
      lx.pos++;
    }
    const modifier = lx.text[lx.pos];
    if (modifier !== '-' && modifier !== '+') throw new WordError(`unsupported modifier "${op}${modifier ?? ''}" in \${${name}…} of "${lx.text}"`);
    lx.pos++;
    const word = readUntilBrace(lx, vars);
    const set = vars.has(name) && (op !== ':' || vars.get(name) !== '');
    if (modifier === '-') return set ? vars.get(name)! : word;
    return set ? word : '';
  }
  if (c !== undefined && NAME_START.test(c)) {
    let name = '';
    while (lx.pos < lx.text.length && NAME_CHAR.test(lx.text[lx.pos])) name += lx.text[lx.pos++];
    return vars.get(name) ?? '';
  }
  return '$';
}

function readUntilBrace(lx: Lexer, vars: Vars): string {
  let out = '';
  while (lx.pos < lx.text.length) {
    const c = lx.text[lx.pos];
    if (c === '}') {
      lx.pos++;
      return out;
    }
    if (c === lx.escape && lx.pos + 1 < lx.text.length) {
      out += lx.text[lx.pos + 1];
      lx.pos += 2;
      continue;
    }
    if (c === '$') {
      lx.pos++;
      out += readVariable(lx, vars);
      continue;
    }
    out += c;
    lx.pos++;
  }
  throw new WordError(`missing "}" in "${lx.text}"`);
}

/**
 * Splits `text` into words (unless `split` is false) with quotes removed and variables expanded.
 * Single quotes are literal; in double quotes only `\"`, `\\` and `\$` are escapes.
 */
export function processWords(text: string, vars: Vars, opts: { split?: boolean; escape?: string } = {}): string[] {
  const split = opts.split ?? true;
  const lx: Lexer = { text, pos: 0, escape: opts.escape ?? '\\' };
  const words: string[] = [];
  let word = '';
  let inWord = false;
  while (lx.pos < text.length) {
    const c = text[lx.pos];
    if (split && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      lx.pos++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", lx.pos + 1);
      if (end < 0) throw new WordError(`unexpected end of statement while looking for matching single-quote in "${text}"`);
      word += text.slice(lx.pos + 1, end);
      lx.pos = end + 1;
      continue;
    }
    if (c === '"') {
      lx.pos++;
      let closed = false;
      while (lx.pos < text.length) {
        const d = text[lx.pos];
        if (d === '"') {
          lx.pos++;
          closed = true;
          break;
        }
        if (d === lx.escape && lx.pos + 1 < text.length && ['"', '$', lx.escape].includes(text[lx.pos + 1])) {
          word += text[lx.pos + 1];
          lx.pos += 2;
          continue;
        }
        if (d === '$') {
          lx.pos++;
          word += readVariable(lx, vars);
          continue;
        }
        word += d;
        lx.pos++;
      }
      if (!closed) throw new WordError(`unexpected end of statement while looking for matching double-quote in "${text}"`);
      continue;
    }
    if (c === lx.escape) {
      if (lx.pos + 1 < text.length) word += text[lx.pos + 1];
      lx.pos += 2;
      continue;
    }
    if (c === '$') {
      lx.pos++;
      word += readVariable(lx, vars);
      continue;
    }
    word += c;
    lx.pos++;
  }
  if (inWord || (!split && words.length === 0)) words.push(word);
  return words;
}

/** One word: the text processed without splitting. */
export function processWord(text: string, vars: Vars, escape = '\\'): string {
  return processWords(text, vars, { split: false, escape })[0] ?? '';
}

/** The exec (JSON) form: `["a", "b"]` → ["a", "b"]; undefined when the text is not a JSON array of strings. */
export function parseJsonForm(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const parsed = JSON.parse(t) as unknown;
    if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) return parsed as string[];
  } catch {
    /* shell form */
  }
  return undefined;
}
