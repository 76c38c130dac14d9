/**
 * The project's layer rules, checked by `npm run deps` (and so by `npm test`). docs/architecture.md
 * explains the layers: shared/ is the protocol and crypto both sides speak, so it stands alone;
 * the phone (client/) and the host (host/) build on it and never on each other; tests, benches
 * and build scripts sit on top and nothing in the product leans on them.
 * Type-only imports count: a cycle through types still ties two modules' changes together.
 */
const TEST = '\\.test\\.tsx?$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other (possibly through others or through types only): move the shared part to one side or to a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'client-only-client-and-shared',
      severity: 'error',
      comment: 'The phone app runs in a browser: it may use client/, shared/ and its npm packages, never the host, tests or scripts.',
      from: { path: '^client/', pathNot: TEST },
      to: { pathNot: ['^client/', '^shared/', '^node_modules/'] },
    },
    {
      name: 'client-tests-not-host',
      severity: 'error',
      comment: "The phone app's unit tests run on Node (node:test), but test the app alone: no host, scripts, e2e or bench code.",
      from: { path: '^client/.+\\.test\\.tsx?$' },
      to: { path: '^(host|scripts|e2e|bench)/' },
    },
    {
      name: 'shared-only-shared',
      severity: 'error',
      comment: 'shared/ runs on both sides: it may use only shared/ and npm packages.',
      from: { path: '^shared/', pathNot: TEST },
      to: { pathNot: ['^shared/', '^node_modules/'] },
    },
    {
      name: 'shared-tests-only-shared',
      severity: 'error',
      comment: 'Tests of shared/ test it alone, with Node and test-support/ helpers.',
      from: { path: '^shared/.+\\.test\\.tsx?$' },
      to: { path: '^(host|client|scripts|e2e|bench)/' },
    },
    {
      name: 'host-not-client-scripts-tests',
      severity: 'error',
      comment: 'The host never imports the phone app, the build scripts, the end-to-end tests, the benchmarks or test helpers.',
      from: { path: '^host/' },
      to: { path: ['^client/', '^scripts/', '^e2e/', '^bench/'] },
    },
    {
      name: 'host-not-test-support',
      severity: 'error',
      comment: 'Test helpers (test-support/) are for tests only.',
      from: { path: '^(host|client|shared)/', pathNot: TEST },
      to: { path: '^test-support/' },
    },
    {
      name: 'product-not-tests',
      severity: 'error',
      comment: 'Product code (host/, client/, shared/) never imports a test file.',
      from: { path: '^(host|client|shared)/', pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'unit-tests-not-e2e',
      severity: 'error',
      comment: 'Unit tests beside the product code share helpers through test-support/, not through e2e/.',
      from: { path: '^(host|client|shared)/.+\\.test\\.tsx?$' },
      to: { path: '^e2e/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build|test-results|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
