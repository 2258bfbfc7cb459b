// 18. The payment provider slowed past nginx's proxy_read_timeout: checkouts answer 504, paid anyway.
import type { Scenario } from '@hindsight/lab/demo';

// A slow dependency that no log line calls an error: the shop's payment provider (the chart's
// simulated provider latency, shop.checkout.paymentLatencyMs) goes from 50 ms to 6 s. The shop
// logs each payment as a success; nginx, whose proxy_read_timeout was tightened to 5 s long before
// (revision 1), gives up first and answers 504, and the user never reaches the confirmation. What
// says where the time went is the shop's spans (its `payment provider` span, 50 -> 6000 ms) and
// nginx's upstream response time; the change to blame is the delay, not the timeout that was
// already there.
export const scenario: Scenario = {
  name: 'payment-provider-slow',
  mechanism:
    "the payment provider slowed past nginx's proxy_read_timeout (504 on pay, payments taken anyway)",
  // Traced, as a team that reads spans runs it, with the memory the tracer needs (about 40 MiB more
  // per pod: at the default 256Mi the traced shop is OOMKilled under the bench's traffic).
  tracing: true,
  up: [
    'nginx.proxyReadTimeout=5s',
    'shop.checkout.paymentLatencyMs=50',
    'shop.resources.limits.memory=384Mi',
  ],
  fault: ['shop.checkout.paymentLatencyMs=6000'],
  decoys: [['shop.logLevel=debug'], ['redis.logLevel=warning']],
  // Both decoys before the fault: the window then holds minutes of traced traffic before the delay,
  // the reference the latency analyzer needs when no incident time is given (it compares the
  // window's first third with the rest); with the fault in the first seconds it has none.
  decoysBefore: 2,
  expected: ['shop.checkout.paymentLatencyMs'],
  caveat:
    "the provider's latency is the shop's own simulated wait (no separate provider process), so its span is the shop's own client span `payment provider` (its self time), not a call edge into another component",
};
