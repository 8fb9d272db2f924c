/*
 * Shared jest settings for the plugin's unit and integration suites.
 *
 * execa 9 and several of its dependencies are ESM-only ("type": "module"). Jest on Node 20 cannot
 * require(esm), so every ESM-only package under node_modules is transpiled to CommonJS by ts-jest
 * (allowJs). The list is computed from the installed tree, so upgrades don't break the suite.
 */
const fs = require('node:fs');
const path = require('node:path');

const nodeModules = path.join(__dirname, '../../node_modules');

function esmOnlyPackages(dir, found = new Set()) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      esmOnlyPackages(full, found);
      continue;
    }
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(full, 'package.json'), 'utf8'));
      if (pkg.type === 'module') found.add(pkg.name);
    } catch {
      /* not a package */
    }
    esmOnlyPackages(path.join(full, 'node_modules'), found);
  }
  return found;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const esm = [...esmOnlyPackages(nodeModules)].map(escape);

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    '^.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // unicorn-magic (used by execa) only declares "import" export conditions.
  moduleNameMapper: { '^unicorn-magic$': path.join(nodeModules, 'unicorn-magic/node.js') },
};
