import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { partBoundaries } from './scripts/eslint/part-boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '*/dist/', '.tmp/', 'coverage/', 'charts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Package boundaries (scripts/eslint/part-boundaries.js): the workspace packages import each other by package
    // name, through their public exports only. Tests may reach into what they test, by package name too.
    files: ['{shared,operator,boot-server,cli,dashboard}/src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    plugins: { anvil: { rules: { 'part-boundaries': partBoundaries } } },
    rules: { 'anvil/part-boundaries': 'error' },
  },
  {
    // Ports and adapters: domain code never reaches the Kubernetes client, pg or sockets directly.
    files: ['shared/src/**/*.ts', 'operator/src/controllers/**/*.ts', 'operator/src/render/**/*.ts'],
    ignores: ['shared/src/kube/rest-client.ts', 'shared/src/kube/connection-pool.ts', 'shared/src/db/drivers/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@kubernetes/client-node', message: 'use the KubeClient port (shared/src/kube) instead' },
            { name: 'pg', message: 'use the history store port instead' },
            { name: 'dgram', message: 'network I/O belongs in adapters' },
            { name: 'node:dgram', message: 'network I/O belongs in adapters' },
          ],
        },
      ],
    },
  },
);
