// ESLint, the Nx way (@nx/eslint-plugin's flat configs), for the TypeScript and JavaScript of this
// workspace; formatting is Prettier's (eslint-config-prettier turns the style rules off).
// `npx nx run nx-swarm:lint` for the plugin; tools/test.sh runs it in CI.
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  prettier,
  {
    ignores: ['**/dist', '**/node_modules', '**/tmp', '**/coverage', '**/test/fixtures/**', 'apps/swarm-visualizer/web/dist/**', '.nx/**'],
  },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.cjs', '**/*.js'],
    rules: {
      // Unused bindings are mistakes, except a deliberate _name.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Lazy engine modules are loaded with require() on purpose (see tools/plugin/dev-loader.cjs).
      '@typescript-eslint/no-require-imports': 'off',
      // `map.get(k)!` after a has/set is the idiom here; the type system can't see it.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // No-op loggers and callbacks (() => {}) are deliberate defaults.
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
  },
];
