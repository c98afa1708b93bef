// ESLint flat config. The per-folder `no-restricted-imports` blocks enforce the layer table of DESIGN.md §1;
// tests/unit/layer-lint.test.ts lints snippets against them so the rules cannot silently disappear.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [...new Set(builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/^node:/, '')))];
const NATIVE_PACKAGES = ['better-sqlite3', 'onnxruntime-node', 'sharp'];

/** Relative imports that climb out of the current folder into one of the named sibling folders. */
const climbInto = (...folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

/** Folders only tests and benchmarks use (generated test models, fixtures, harnesses): never part of the app. */
const TEST_ONLY = ['test-models', 'tests', 'bench'];
const TEST_ONLY_MESSAGE = 'test-models/, tests/ and bench/ are for tests and benchmarks; the app must not import them.';

const noElectron = { name: 'electron', message: 'Only the app shell (src/main/app, src/main/index.ts) and the preload import electron.' };

const layers = [
  {
    // The contract is imported everywhere, so it depends on nothing of ours.
    files: ['src/shared/**'],
    paths: [noElectron],
    patterns: [
      {
        regex: climbInto('main', 'renderer', 'preload', 'tests', 'bench', 'bin'),
        message: 'src/shared may import nothing of ours outside src/shared.',
      },
    ],
  },
  {
    // The core runs in plain Node (CLI, tests, Electron main): no Electron, no UI, no shell.
    files: ['src/main/core/**'],
    paths: [noElectron],
    patterns: [
      { regex: climbInto('app', 'cli', 'renderer', 'preload'), message: 'The core may import only the core and src/shared.' },
      { regex: climbInto(...TEST_ONLY), message: TEST_ONLY_MESSAGE },
    ],
  },
  {
    // The shell and the CLI ship too: nothing of the tests' own reaches them either.
    files: ['src/main/app/**', 'src/main/cli/**', 'src/main/index.ts'],
    paths: [],
    patterns: [{ regex: climbInto(...TEST_ONLY), message: TEST_ONLY_MESSAGE }],
  },
  {
    // The page runs in a sandbox: it talks to window.tandem, never to Node, Electron or native code.
    files: ['src/renderer/**'],
    paths: [
      noElectron,
      ...NATIVE_PACKAGES.map((name) => ({ name, message: 'Native modules run in the main process; ask window.tandem.' })),
      ...NODE_BUILTINS.map((name) => ({ name, message: 'The renderer has no Node; ask window.tandem.' })),
    ],
    patterns: [
      { regex: '^node:', message: 'The renderer has no Node; ask window.tandem.' },
      { regex: climbInto('main', 'preload', ...TEST_ONLY), message: 'The renderer may import only src/renderer and src/shared.' },
    ],
  },
  {
    // A sandboxed preload can require only 'electron'; everything else is bundled from shared and preload.
    files: ['src/preload/**'],
    paths: [],
    patterns: [
      { regex: '^(?!electron$)[^.]', message: 'The preload may import only electron, src/shared and src/preload.' },
      { regex: climbInto('main', 'renderer', ...TEST_ONLY), message: 'The preload may import only electron, src/shared and src/preload.' },
    ],
  },
];

export default defineConfig(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', '.cache/**', 'bench/.data/**', '.tandem/**', 'tests/e2e/screenshots/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  ...layers.map(({ files, paths, patterns }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  })),
);
