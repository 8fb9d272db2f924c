#!/usr/bin/env node
/**
 * Regenerates the options table of each executor's doc from its schema.json, so the docs can't
 * drift from what the executor accepts.
 *
 *   node tools/gen-executor-docs.mjs           rewrite the tables that changed
 *   node tools/gen-executor-docs.mjs --check   change nothing; exit 1 naming each doc that drifted
 *
 * Executors come from packages/nx-swarm/executors.json; the doc of executor NAME is
 * docs/executors/NAME.md. Only the text between these two lines is generated:
 *
 *   <!-- options:start -->
 *   <!-- options:end -->
 *
 * Everything else in the doc is written by people and never touched. A doc without the markers,
 * or a missing doc, is an error in both modes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const START = '<!-- options:start -->';
export const END = '<!-- options:end -->';

// One table cell: one line, pipes escaped, and "<word" escaped so Markdown doesn't take it for HTML.
const cell = (text) =>
  String(text)
    .replace(/\r?\n+/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .trim();
const code = (text) => '`' + String(text).replace(/`/g, "'") + '`';

function literal(value) {
  return typeof value === 'string' ? code(value === '' ? '""' : value) : code(JSON.stringify(value));
}

function range(s) {
  const { minimum: min, maximum: max } = s;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

/** Parenthesises a union (a top-level " | ") so it reads unambiguously inside another type. */
function group(type) {
  let depth = 0;
  for (let i = 0; i < type.length; i++) {
    if (type[i] === '(') depth++;
    else if (type[i] === ')') depth--;
    else if (depth === 0 && type.startsWith(' | ', i)) return `(${type})`;
  }
  return type;
}

/** A short human type: `string`, `integer 1–65535`, `string[]`, `` `vip` \| `dnsrr` ``, `object[]`. */
export function typeOf(s) {
  if (!s || typeof s !== 'object') return 'any';
  if (Array.isArray(s.enum)) return s.enum.map(literal).join(' | ');
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) return [...new Set(alternatives.map((a) => group(typeOf(a))))].join(' | ');
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (s.type === 'array') {
    return `${group(typeOf(s.items))}[]`;
  }
  if (s.type === 'object' && !s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return `object of ${group(typeOf(s.additionalProperties))}`;
  }
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${range(s)}`;
  return s.type ?? 'any';
}

function description(s, required) {
  let text = s.description ?? '';
  if (required) text = `**Required.** ${text}`;
  const example = Array.isArray(s.examples) ? s.examples[0] : undefined;
  if (example !== undefined && s.type !== 'boolean' && JSON.stringify(example) !== JSON.stringify(s.default)) {
    const json = typeof example === 'string' ? example : JSON.stringify(example);
    if (json.length <= 80) text += `${text ? ' ' : ''}Example: ${code(json)}.`;
  }
  return text;
}

/** Rows for the properties of an object schema, nested objects and object arrays included. */
function rows(schema, prefix, depth) {
  const out = [];
  const required = new Set(schema.required ?? []);
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const key = `${prefix}${name}`;
    out.push([code(key), typeOf(s), s.default === undefined ? '' : literal(s.default), description(s, required.has(name))]);
    if (depth >= 3) continue;
    if (s.type === 'object' && s.properties) out.push(...rows(s, `${key}.`, depth + 1));
    if (s.type === 'array' && s.items?.properties) out.push(...rows(s.items, `${key}[].`, depth + 1));
  }
  return out;
}

/** The generated section: a provenance comment and a Markdown table, from an executor schema. */
export function renderOptions(schema, schemaPath) {
  const lines = [
    `<!-- Generated from ${schemaPath} by tools/gen-executor-docs.mjs: edit the schema, then run \`node tools/gen-executor-docs.mjs\`. -->`,
    '',
    '| option | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows(schema, '', 1).map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  if (schema.additionalProperties === false) lines.push('', 'Other options are rejected.');
  return lines.join('\n');
}

/** md with the text between the markers replaced by section. Throws when the markers are wrong. */
export function replaceSection(md, section, file) {
  const count = (m) => md.split(m).length - 1;
  if (count(START) !== 1 || count(END) !== 1 || md.indexOf(START) > md.indexOf(END)) {
    throw new Error(
      `${file}: needs exactly one "${START}" line followed by one "${END}" line where the options table goes ` +
        `(found ${count(START)} start, ${count(END)} end).`,
    );
  }
  const before = md.slice(0, md.indexOf(START) + START.length);
  const after = md.slice(md.indexOf(END));
  return `${before}\n${section}\n${after}`;
}

/** One result per executor: { name, doc, status: 'up to date' | 'updated' | 'drifted', error? }. */
export function run({ root, check }) {
  const pluginDir = path.join(root, 'packages/nx-swarm');
  const executors = JSON.parse(fs.readFileSync(path.join(pluginDir, 'executors.json'), 'utf8')).executors;
  const results = [];
  for (const [name, entry] of Object.entries(executors)) {
    const schemaPath = path.posix.join('packages/nx-swarm', entry.schema.replace(/^\.\//, ''));
    const doc = path.posix.join('docs/executors', `${name}.md`);
    try {
      const schema = JSON.parse(fs.readFileSync(path.join(root, schemaPath), 'utf8'));
      if (!fs.existsSync(path.join(root, doc))) {
        throw new Error(`${doc} is missing: write it, with "${START}" and "${END}" lines where the options table goes.`);
      }
      const md = fs.readFileSync(path.join(root, doc), 'utf8');
      const next = replaceSection(md, renderOptions(schema, schemaPath), doc);
      if (next === md) results.push({ name, doc, status: 'up to date' });
      else if (check) results.push({ name, doc, status: 'drifted' });
      else {
        fs.writeFileSync(path.join(root, doc), next);
        results.push({ name, doc, status: 'updated' });
      }
    } catch (error) {
      results.push({ name, doc, status: 'error', error: error.message });
    }
  }
  return results;
}

function main(argv) {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length) {
    console.error(`gen-executor-docs: unknown argument ${unknown.join(' ')}. Usage: node tools/gen-executor-docs.mjs [--check]`);
    return 2;
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const results = run({ root, check });
  let failed = 0;
  for (const r of results) {
    if (r.status === 'error') {
      failed++;
      console.error(`✖ ${r.error}`);
    } else if (r.status === 'drifted') {
      failed++;
      console.error(
        `✖ ${r.doc}: the options table differs from the executor's schema.json. Run node tools/gen-executor-docs.mjs and commit the result.`,
      );
    } else {
      console.log(`${r.status === 'updated' ? '✎' : '✔'} ${r.doc} ${r.status}`);
    }
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
