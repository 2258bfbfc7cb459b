// 7. nginx proxy_read_timeout below the slow path's latency: ghost commits, stuck checkouts.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'nginx-timeout-below-payment',
  mechanism: "nginx proxy_read_timeout below the slow path's latency (ghost commits, stuck checkouts)",
  up: ['shop.checkout.paymentLatencyMs=1500', 'nginx.proxyReadTimeout=30s'],
  fault: ['nginx.proxyReadTimeout=1s'],
  decoys: [['shop.logLevel=debug'], ['redis.logLevel=warning']],
  expected: ['nginx.proxyReadTimeout'],
};
