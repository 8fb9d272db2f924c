// node --test tools/gen-executor-docs.test.mjs
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { END, START, renderOptions, replaceSection, run, typeOf } from './gen-executor-docs.mjs';

test('typeOf', async (t) => {
  const cases = [
    [{ type: 'string' }, 'string'],
    [{ type: 'integer', minimum: 1, maximum: 65535 }, 'integer 1–65535'],
    [{ type: 'integer', minimum: 0 }, 'integer ≥ 0'],
    [{ type: 'number', maximum: 1 }, 'number ≤ 1'],
    [{ type: 'array', items: { type: 'string' } }, 'string[]'],
    [{ type: 'array', items: { type: 'object', properties: {} } }, 'object[]'],
    [{ type: 'array', items: { enum: ['a', 'b'] } }, '(`a` | `b`)[]'],
    [{ type: 'string', enum: ['vip', 'dnsrr'] }, '`vip` | `dnsrr`'],
    [{ oneOf: [{ type: 'string' }, { type: 'number', minimum: 0 }] }, 'string | number ≥ 0'],
    [
      {
        oneOf: [
          { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }] } },
          { type: 'array', items: { type: 'string' } },
        ],
      },
      'object of (string | number) | string[]',
    ],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'object of string'],
    [{}, 'any'],
  ];
  for (const [schema, expected] of cases) {
    await t.test(JSON.stringify(schema), () => assert.equal(typeOf(schema), expected));
  }
});

test('renderOptions: rows for nested objects and object arrays, defaults, required, examples, escaping', () => {
  const md = renderOptions(
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        ports: {
          type: 'array',
          description: 'Ports.',
          items: { type: 'object', required: ['target'], properties: { target: { type: 'integer', description: 'Container | port.' } } },
        },
        mode: { type: 'string', enum: ['a', 'b'], default: 'a', description: 'Tag <b>bold</b> c-<12 hex>\nnext line.' },
        main: { type: 'string', default: '.', examples: ['.', './cmd'] },
        delay: { type: 'string', default: '0s', examples: ['0s'] },
        update: { type: 'object', properties: { order: { type: 'string', examples: ['start-first'] } } },
      },
    },
    'x/schema.json',
  );
  assert.equal(
    md,
    [
      '<!-- Generated from x/schema.json by tools/gen-executor-docs.mjs: edit the schema, then run `node tools/gen-executor-docs.mjs`. -->',
      '',
      '| option | type | default | description |',
      '| --- | --- | --- | --- |',
      '| `ports` | object[] |  | Ports. |',
      '| `ports[].target` | integer |  | **Required.** Container \\| port. |',
      '| `mode` | `a` \\| `b` | `a` | Tag &lt;b>bold&lt;/b> c-<12 hex> next line. |',
      '| `main` | string | `.` |  |', // the first example is the default: not repeated
      '| `delay` | string | `0s` |  |',
      '| `update` | object |  |  |',
      '| `update.order` | string |  | Example: `start-first`. |',
      '',
      'Other options are rejected.',
    ].join('\n'),
  );
});

test('replaceSection replaces only between the markers', () => {
  const md = `# x\n\nintro\n\n${START}\nold\n${END}\n\nrest\n`;
  assert.equal(replaceSection(md, 'new', 'x.md'), `# x\n\nintro\n\n${START}\nnew\n${END}\n\nrest\n`);
});

test('replaceSection refuses missing, repeated or reversed markers, naming the file', () => {
  for (const md of ['no markers', `${START}\n${START}\n${END}`, `${END}\n${START}`]) {
    assert.throws(() => replaceSection(md, 'x', 'docs/executors/a.md'), /docs\/executors\/a.md: needs exactly one/);
  }
});

test('run: updates, then reports up to date; --check reports drift and a missing doc without writing', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-docs-'));
  try {
    const write = (f, text) => {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    };
    write(
      'packages/nx-swarm/executors.json',
      JSON.stringify({ executors: { a: { schema: './src/executors/a/schema.json' }, b: { schema: './src/executors/b/schema.json' } } }),
    );
    write('packages/nx-swarm/src/executors/a/schema.json', JSON.stringify({ properties: { x: { type: 'string', description: 'X.' } } }));
    write('packages/nx-swarm/src/executors/b/schema.json', JSON.stringify({ properties: {} }));
    write('docs/executors/a.md', `# a\n${START}\nhand-written\n${END}\nprose\n`);

    const checked = run({ root, check: true });
    assert.deepEqual(
      checked.map((r) => [r.name, r.status]),
      [
        ['a', 'drifted'],
        ['b', 'error'],
      ],
    );
    assert.match(checked[1].error, /docs\/executors\/b.md is missing/);
    assert.match(fs.readFileSync(path.join(root, 'docs/executors/a.md'), 'utf8'), /hand-written/);

    assert.equal(run({ root, check: false })[0].status, 'updated');
    const doc = fs.readFileSync(path.join(root, 'docs/executors/a.md'), 'utf8');
    assert.match(doc, /\| `x` \| string \| {2}\| X. \|/);
    assert.match(doc, /prose\n$/);
    assert.equal(run({ root, check: true })[0].status, 'up to date');

    // Someone edits the schema but not the doc: --check catches it.
    write('packages/nx-swarm/src/executors/a/schema.json', JSON.stringify({ properties: { x: { type: 'string', description: 'X, changed.' } } }));
    assert.equal(run({ root, check: true })[0].status, 'drifted');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
