/** Jest only transpiles (with SWC); `tsc --noEmit` type-checks separately in `npm test`. */

// Our TypeScript (after SWC) and the libraries whose code the tests run hot get their built-ins bound
// as module variables, which makes CDK synthesis under jest as fast as under plain Node
// (test/helpers/bind-globals.js says why).
const HOT_LIBRARIES = '(aws-cdk-lib|constructs|cdk-nag|@aws-cdk|@aws-sdk|@smithy|@aws-crypto|zod|undici|jose)';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // CDK synthesis of a whole app takes seconds on 2 cores; the default 5 s is too tight under load.
  testTimeout: 30_000,
  // Jest's default is cores - 1: a single worker on the 2-core CI machine. Four, because a third of
  // the suite waits (on moto_server, on the processes it starts): measured on 2 cores, alternating
  // runs, three workers finished 2-3 s before two, and four (since the CDK files got lighter) 1.0-3.7 s
  // before three, in 4 pairs.
  maxWorkers: 4,
  transform: {
    '^.+\\.tsx?$': ['<rootDir>/test/helpers/bind-globals.js', { swc: true }],
    [`/node_modules/${HOT_LIBRARIES}/.+\\.c?js$`]: '<rootDir>/test/helpers/bind-globals.js',
  },
  // Their own dependencies are not: a path with any other package after a node_modules is left as it is
  // (aws-cdk-lib/node_modules/@aws/cloudformation-validate/... too).
  transformIgnorePatterns: [`/node_modules/(?!${HOT_LIBRARIES}/)`],
  snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.js'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // Starts moto_server on a free loopback port and bundles the CLI; stops moto after the run.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
};
