/**
 * The import block of a Go source file, read without the Go toolchain: the package clause and every
 * import spec before the first other declaration (Go allows imports only there).
 *
 * Handles what real files contain: a BOM, line and block comments anywhere (build constraints,
 * license headers, `//go:generate`), grouped and single imports, aliases, blank (`_`) and dot (`.`)
 * imports, interpreted strings with escapes and raw strings, semicolons, and `import "C"` (cgo's
 * pseudo-package, reported like any other; the resolver never finds a module for it). Stops at the
 * first token that isn't part of an import declaration, so the body of a large file costs nothing.
 * Pure: text in, data out.
 */

export interface GoImport {
  path: string;
  /** The alias, `_` or `.`, when the spec has one. */
  name?: string;
  line: number;
}

export interface GoFileImports {
  /** The package clause's name; undefined when the file has none (not Go, or broken). */
  packageName?: string;
  imports: GoImport[];
}

class Scanner {
  pos = 0;
  line = 1;
  constructor(private readonly src: string) {}

  /** Skips white space, comments and semicolons. */
  skip(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === ';' || c === '\uFEFF') {
        this.pos++;
      } else if (c === '/' && s[this.pos + 1] === '/') {
        const end = s.indexOf('\n', this.pos);
        this.pos = end < 0 ? s.length : end;
      } else if (c === '/' && s[this.pos + 1] === '*') {
        const end = s.indexOf('*/', this.pos + 2);
        const stop = end < 0 ? s.length : end + 2;
        this.countLines(this.pos, stop);
        this.pos = stop;
      } else {
        return;
      }
    }
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.src[i] === '\n') this.line++;
  }

  peek(): string {
    return this.src[this.pos] ?? '';
  }

  /** An identifier (letters, digits, `_`, any non-ASCII letter), or '' when there is none here. */
  ident(): string {
    const s = this.src;
    const start = this.pos;
    let end = start;
    // ASCII first, by char code (every identifier before the imports' end is one, almost always).
    for (; end < s.length; end++) {
      const c = s.charCodeAt(end);
      const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
      if (!(letter || (end > start && c >= 48 && c <= 57))) break;
    }
    if (end < s.length && s.charCodeAt(end) > 127) {
      const m = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(s.slice(start, start + 256));
      if (!m) return '';
      end = start + m[0].length;
    }
    this.pos = end;
    return s.slice(start, end);
  }

  /** A string literal ("…" or `…`), or undefined when there is none here. */
  string(): string | undefined {
    const s = this.src;
    const q = s[this.pos];
    if (q === '`') {
      const end = s.indexOf('`', this.pos + 1);
      if (end < 0) return undefined;
      const value = s.slice(this.pos + 1, end);
      this.countLines(this.pos, end);
      this.pos = end + 1;
      return value;
    }
    if (q !== '"') return undefined;
    let j = this.pos + 1;
    while (j < s.length && s[j] !== '"' && s[j] !== '\n') j += s[j] === '\\' ? 2 : 1;
    if (s[j] !== '"') return undefined;
    const raw = s.slice(this.pos, j + 1);
    this.pos = j + 1;
    return decodeInterpreted(raw);
  }
}

/**
 * A piece of the source as a string of its own, one per distinct value. V8 represents a substring as
 * a view that keeps the whole source string alive; the scan memo keeps import paths for the process's
 * lifetime (the Nx daemon's, hours), so a view would keep every scanned Go file in memory. The same
 * few hundred paths and names recur in thousands of files, so each is copied once and shared.
 */
const interned = new Map<string, string>();
const MAX_INTERNED = 100_000;
function own(part: string): string {
  let copy = interned.get(part);
  if (copy === undefined) {
    copy = Buffer.from(part, 'utf8').toString('utf8');
    if (interned.size < MAX_INTERNED) interned.set(copy, copy);
  }
  return copy;
}

/** Decodes a Go interpreted string literal (import paths rarely have escapes, but they may). */
function decodeInterpreted(raw: string): string {
  const body = raw.slice(1, -1);
  if (!body.includes('\\')) return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      case 'n':
        return '\n';
      case 't':
        return '\t';
      default:
        return /^[0-7]{3}$/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e;
    }
  });
}

/** One import spec: [name] "path". Returns false when the text here is not a spec. */
function importSpec(sc: Scanner, out: GoImport[]): boolean {
  sc.skip();
  let name: string | undefined;
  if (sc.peek() === '.') {
    sc.pos++;
    name = '.';
  } else {
    const id = sc.ident();
    if (id) name = id;
  }
  sc.skip();
  const line = sc.line;
  const path = sc.string();
  if (path === undefined) return false;
  out.push({ path: own(path), ...(name ? { name: own(name) } : {}), line });
  return true;
}

/** Reads the package clause and the import declarations of one Go file. */
export function scanGoImports(src: string): GoFileImports {
  const sc = new Scanner(src);
  sc.skip();
  if (sc.ident() !== 'package') return { imports: [] };
  sc.skip();
  const clause = sc.ident();
  const packageName = clause ? own(clause) : undefined;
  const imports: GoImport[] = [];
  for (;;) {
    sc.skip();
    const save = { pos: sc.pos, line: sc.line };
    if (sc.ident() !== 'import') {
      sc.pos = save.pos;
      break;
    }
    sc.skip();
    if (sc.peek() === '(') {
      sc.pos++;
      for (;;) {
        sc.skip();
        if (sc.peek() === ')') {
          sc.pos++;
          break;
        }
        if (!importSpec(sc, imports)) return { packageName, imports };
      }
    } else if (!importSpec(sc, imports)) {
      break;
    }
  }
  return { packageName, imports };
}
