/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { useESM: true }];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  // Workspace packages (@anvil/core, ...) resolve to their TypeScript sources: the "anvil-source" condition of their
  // package.json exports (tsconfig.json's customConditions says the same to ts-jest's type checks).
  testEnvironmentOptions: { customExportConditions: ['anvil-source', 'node', 'node-addons'] },
};

const projects = [
  {
    ...common,
    displayName: 'unit',
    testMatch: ['<rootDir>/{shared,operator,boot-server,cli,dashboard}/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/proxmox-sim/**/*.test.ts'],
  },
  {
    ...common,
    displayName: 'integration',
    testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
  },
  // A real single-node cluster (kubelet, containerd, root): only with ANVIL_TEST_PROJECT=cluster (npm run test:cluster).
  {
    ...common,
    displayName: 'cluster',
    testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  },
];
const explicitOnly = new Set(['cluster']);

// `npm run test:unit -- <path>` picks its project here: jest's --selectProjects takes every argument after it as a
// project name, so a path given after it would be swallowed.
const only = process.env.ANVIL_TEST_PROJECT;
if (only && !projects.some((p) => p.displayName === only)) {
  throw new Error(`ANVIL_TEST_PROJECT=${only}: one of ${projects.map((p) => p.displayName).join(', ')}`);
}

export default {
  projects: only ? projects.filter((p) => p.displayName === only) : projects.filter((p) => !explicitOnly.has(p.displayName)),
  testTimeout: 60000,
  // Names what a test left open (jest's own message does not): test/harness/open-handles.mjs.
  globalSetup: '<rootDir>/test/harness/open-handles-setup.mjs',
  globalTeardown: '<rootDir>/test/harness/open-handles.mjs',
};
