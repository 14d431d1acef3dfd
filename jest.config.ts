import type { Config } from 'jest';

/**
 * Type checking is done once by `tsc -p tsconfig.test.json` in `npm run build:test`,
 * so ts-jest only transpiles (isolatedModules) and the suite stays fast on 2 cores.
 * End-to-end and hostile tests spawn the compiled CLI from dist/, built by `pretest`.
 */
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }],
  },
  maxWorkers: 2,
  testTimeout: 30000,
  verbose: false,
};

export default config;
