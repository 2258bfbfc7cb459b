// What cross-package tests (test/e2e) use to run collect against a recorded Kubernetes API and
// real Redis and PostgreSQL servers: `@hindsight/collect/testing`, never the package's files by path.
export { FIXTURE_WINDOW, PLANTED, startKubeApi } from './kube-fixture.js';
export { filesContaining, shopServers } from './test-support.js';
export type { ShopServers } from './test-support.js';
