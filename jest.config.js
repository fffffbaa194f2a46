/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  // Suites mirror lib (__tests__/<layer>/<module>.test.ts); properties/, e2e/ and hygiene/ stand apart.
  testMatch: ['**/*.test.ts'],
  // Helpers are never suites, whatever they are named.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/support/'],
  transform: {
    // jose and openid-client (with oauth4webapi) are published as ESM only; ts-jest turns them (and our TS) into CommonJS for Jest's loader.
    '^.+\\.(t|j|mj)s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: { warnOnly: false } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|openid-client|oauth4webapi)/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30000,
  maxWorkers: 2,
}
