import { describe, expect, it } from 'vitest';
import { findLineTime, parseTimeCell } from './index.js';

describe('parseTimeCell', () => {
  it('reads the time columns of real datasets', () => {
    // Nezha metric `Time` (Go time.String()), `TimeStamp` (seconds), log `Timestamp` and `TimeUnixNano`.
    expect(parseTimeCell('2023-01-29 08:41:10.649486457 +0000 UTC m=+1.725648324')).toBe(
      Date.UTC(2023, 0, 29, 8, 41, 10, 649),
    );
    expect(parseTimeCell('1674981670')).toBe(1674981670_000);
    expect(parseTimeCell('2023-01-29T10:03:57.916340805Z')).toBe(Date.UTC(2023, 0, 29, 10, 3, 57, 916));
    expect(parseTimeCell('1674986637916340805')).toBe(1674986637916);
    expect(parseTimeCell('2023-01-29T09:34:03.123')).toBe(Date.UTC(2023, 0, 29, 9, 34, 3, 123));
    expect(parseTimeCell('2023-01-29T18:00:00+08:00')).toBe(Date.UTC(2023, 0, 29, 10));
  });
  it('refuses what is not a time, including Go zero times', () => {
    expect(parseTimeCell('-6795364578871345152')).toBeNaN();
    expect(parseTimeCell('0.5')).toBeNaN();
    expect(parseTimeCell('server')).toBeNaN();
    expect(parseTimeCell('')).toBeNaN();
  });
});

describe('findLineTime', () => {
  const ref = Date.UTC(2022, 11, 21, 12);
  it('finds the times container logs carry', () => {
    expect(findLineTime('I1221 09:43:26.252095       1 controller.go:773] Starting', ref).time).toBe(
      Date.UTC(2022, 11, 21, 9, 43, 26, 252),
    );
    expect(findLineTime('time="2022-12-21T09:43:10Z" level=fatal msg="x"', ref).time).toBe(
      Date.UTC(2022, 11, 21, 9, 43, 10),
    );
    expect(findLineTime('Hello from k3s (Evans Secret): Wed Dec 21 09:42:42 UTC 2022', ref).time).toBe(
      Date.UTC(2022, 11, 21, 9, 42, 42),
    );
    expect(findLineTime('10.0.0.1 - - [21/Dec/2022:09:42:42 +0000] "GET / HTTP/1.1" 200', ref).time).toBe(
      Date.UTC(2022, 11, 21, 9, 42, 42),
    );
    expect(findLineTime('2022/12/21 09:42:42 [notice] 1#1: start', ref).time).toBe(
      Date.UTC(2022, 11, 21, 9, 42, 42),
    );
  });
  it('removes a kubectl --timestamps prefix and keeps the rest', () => {
    const r = findLineTime('2022-12-21T09:42:42.123456789Z hello', ref);
    expect(r).toEqual({ time: Date.UTC(2022, 11, 21, 9, 42, 42, 123), text: 'hello' });
  });
  it('gives klog lines of December the year before when read in January', () => {
    expect(findLineTime('E1231 23:59:59.000000 1 x.go:1] late', Date.UTC(2023, 0, 1, 0, 5)).time).toBe(
      Date.UTC(2022, 11, 31, 23, 59, 59),
    );
  });
  it('says NaN for a line with no time', () => {
    expect(findLineTime('[INFO] plugin/ready: Still waiting on: "kubernetes"', ref).time).toBeNaN();
  });
});
