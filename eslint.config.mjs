// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', '*.js', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // src/kernel is a pure library: no framework, database, socket or host I/O imports,
    // no wall clock, no unseeded randomness (inject them).
    files: ['src/kernel/**/*.ts'],
    ignores: ['src/kernel/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'os', 'path', 'worker_threads', 'dgram', 'cluster', 'process', 'events', 'stream', 'tls', 'dns'].map(
            (name) => ({ name, message: 'src/kernel must not do host I/O.' }),
          ),
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'typeorm-*', 'socket.io', 'socket.io-*', 'pg', '@electric-sql/*', 'express'], message: 'src/kernel is a pure library.' },
            { group: ['node:*'], message: 'src/kernel must not do host I/O.' },
            { group: ['../../src/*', '../server/*', '../modules/*', '../../*/app*'], message: 'src/kernel must not import the server.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Inject the clock; no Date.now() in src/kernel.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Inject the clock; no new Date() in src/kernel.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Use the seeded Rng; no Math.random() in src/kernel.' },
        { selector: "MemberExpression[object.name='process']", message: 'src/kernel must not touch process.' },
        { selector: "Program > VariableDeclaration[kind='let']", message: 'No module-level mutable state in src/kernel.' },
      ],
    },
  },
);
