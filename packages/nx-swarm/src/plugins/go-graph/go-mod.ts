/**
 * go.mod and go.work readers: the directives the project graph needs (module, go, require, replace,
 * use), with their line numbers, parsed in TypeScript so that `nx graph` needs no Go toolchain.
 *
 * The grammar is Go's (cmd/go/internal/modfile, golang.org/x/mod/modfile): one directive a line, or a
 * `verb ( … )` block of them; `//` comments; tokens are bare words or "interpreted" / `raw` strings;
 * `=>` separates a replacement. Unknown verbs (exclude, retract, tool, godebug, ignore, toolchain) are
 * skipped. Pure: text in, data out.
 */

export interface Require {
  path: string;
  version: string;
  line: number;
  indirect: boolean;
}

export interface Replace {
  /** The module path being replaced (`old` in `replace old [v] => new [v]`). */
  from: string;
  fromVersion?: string;
  /** The replacement: a local directory (see `local`) or a module path. */
  to: string;
  toVersion?: string;
  /** Is `to` a file path (./x, ../x, /x, C:\x) rather than a module path? Go's own rule. */
  local: boolean;
  line: number;
}

export interface GoMod {
  module?: { path: string; line: number };
  go?: string;
  requires: Require[];
  replaces: Replace[];
}

export interface GoWork {
  go?: string;
  uses: { dir: string; line: number }[];
  replaces: Replace[];
}

interface Statement {
  verb: string;
  args: string[];
  line: number;
  comment: string;
}

/** Go's rule for a replacement that is a directory: it starts with ./ ../ / (or a drive letter), or is . or .. */
export function isLocalPath(p: string): boolean {
  return p === '.' || p === '..' || /^\.\.?[/\\]/.test(p) || p.startsWith('/') || /^[A-Za-z]:[/\\]/.test(p) || p.startsWith('\\');
}

function unquote(token: string): string {
  if (token.startsWith('`') && token.endsWith('`') && token.length >= 2) return token.slice(1, -1);
  if (token.startsWith('"') && token.endsWith('"') && token.length >= 2) {
    try {
      return JSON.parse(token) as string;
    } catch {
      return token.slice(1, -1);
    }
  }
  return token;
}

/** Splits one line into tokens and its trailing `//` comment (strings may contain `//`). */
export function tokenizeLine(line: string): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && line[i + 1] === '/') {
      return { tokens, comment: line.slice(i + 2).trim() };
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      tokens.push(line.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = line.indexOf('`', i + 1);
      const end = j < 0 ? line.length : j;
      tokens.push(line.slice(i, end + 1));
      i = end + 1;
    } else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else if (c === '=' && line[i + 1] === '>') {
      tokens.push('=>');
      i += 2;
    } else {
      let j = i;
      while (
        j < line.length &&
        !' \t\r"`()'.includes(line[j]) &&
        !(line[j] === '/' && line[j + 1] === '/') &&
        !(line[j] === '=' && line[j + 1] === '>')
      )
        j++;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return { tokens, comment: '' };
}

/** The statements of a go.mod / go.work file: `verb args…`, block members carry the block's verb. */
function statements(text: string): Statement[] {
  const out: Statement[] = [];
  let block: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const { tokens, comment } = tokenizeLine(raw);
    if (tokens.length === 0) return;
    if (block !== undefined) {
      if (tokens[0] === ')') {
        block = undefined;
        return;
      }
      out.push({ verb: block, args: tokens.map(unquote), line, comment });
      return;
    }
    if (tokens.length >= 2 && tokens[1] === '(') {
      // `verb (` opens a block; `verb ( x )` on one line is a one-member block.
      const rest = tokens.slice(2);
      if (rest[rest.length - 1] === ')') {
        if (rest.length > 1) out.push({ verb: tokens[0], args: rest.slice(0, -1).map(unquote), line, comment });
      } else {
        block = tokens[0];
        if (rest.length) out.push({ verb: tokens[0], args: rest.map(unquote), line, comment });
      }
      return;
    }
    out.push({ verb: tokens[0], args: tokens.slice(1).map(unquote), line, comment });
  });
  return out;
}

function parseReplace(s: Statement): Replace | undefined {
  const arrow = s.args.indexOf('=>');
  if (arrow < 1 || arrow > 2 || s.args.length <= arrow + 1) return undefined;
  const [from, fromVersion] = s.args.slice(0, arrow);
  const [to, toVersion] = s.args.slice(arrow + 1);
  return { from, ...(fromVersion ? { fromVersion } : {}), to, ...(toVersion ? { toVersion } : {}), local: isLocalPath(to), line: s.line };
}

/** Parses a go.mod file. Malformed lines are skipped: Go reports them itself when it builds. */
export function parseGoMod(text: string): GoMod {
  const mod: GoMod = { requires: [], replaces: [] };
  for (const s of statements(text)) {
    switch (s.verb) {
      case 'module':
        if (s.args[0]) mod.module = { path: s.args[0], line: s.line };
        break;
      case 'go':
        if (s.args[0]) mod.go = s.args[0];
        break;
      case 'require':
        if (s.args.length >= 2) mod.requires.push({ path: s.args[0], version: s.args[1], line: s.line, indirect: /^indirect\b/.test(s.comment) });
        break;
      case 'replace': {
        const r = parseReplace(s);
        if (r) mod.replaces.push(r);
        break;
      }
    }
  }
  return mod;
}

/** Parses a go.work file. */
export function parseGoWork(text: string): GoWork {
  const work: GoWork = { uses: [], replaces: [] };
  for (const s of statements(text)) {
    switch (s.verb) {
      case 'go':
        if (s.args[0]) work.go = s.args[0];
        break;
      case 'use':
        if (s.args[0]) work.uses.push({ dir: s.args[0], line: s.line });
        break;
      case 'replace': {
        const r = parseReplace(s);
        if (r) work.replaces.push(r);
        break;
      }
    }
  }
  return work;
}
