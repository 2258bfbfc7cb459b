// 17. nginx proxy_buffer_size cut below the shop's response headers: 502 "upstream sent too big header".
import type { Scenario } from '@hindsight/lab/demo';

// proxy_buffer_size holds the upstream's status line and headers. Cut from 4k to 256 bytes (to
// save memory per connection), it no longer holds a response that carries the signed session
// cookie (a login, a cart write): nginx answers 502 and logs "upstream sent too big header", and
// the shop, which answered 200, logs nothing wrong. A bare `256` (bytes, as nginx reads it) is what
// `--set` and a values file give as a number: the chart's schema takes it as well as `4k`.
export const scenario: Scenario = {
  name: 'nginx-proxy-buffer-too-small',
  mechanism: "nginx proxy_buffer_size below the shop's response headers (502, upstream sent too big header)",
  up: ['nginx.proxyBufferSize=4k'],
  fault: ['nginx.proxyBufferSize=256'],
  decoys: [['nginx.logLevel=error'], ['shop.logLevel=debug']],
  expected: ['nginx.proxyBufferSize'],
};
