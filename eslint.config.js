// Lint rules. The layering rule (src -> runtime -> translator, never backwards) is enforced here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['translator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/runtime/**', '../runtime/*', '**/src/**'], message: 'translator/ is pure: it never imports runtime/ or src/.' },
        { group: ['node:*', 'fs', 'path', 'child_process'], message: 'translator/ does no I/O.' },
      ] }],
    },
  },
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/src/**', '../src/*'], message: 'runtime/ never imports src/ (layers go src -> runtime -> translator).' },
      ] }],
    },
  },
);
