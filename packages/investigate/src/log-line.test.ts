import { describe, expect, it } from 'vitest';
import { parseLogLine } from './log-line.js';

describe('parseLogLine', () => {
  it('keeps the source line of a plain-text log statement, so two statements of a class stay two templates', () => {
    // Nezha Train Ticket, 2023-01-29 09:43: the fault swaps statement #132 for #129.
    const a = parseLogLine(
      '17:33:27.487 INFO  v.s.i.VerifyCodeServiceImpl#132 TraceID: 82 SpanID: 93 [verifyCode]GET Code',
    );
    const b = parseLogLine(
      '17:43:10.332 ERROR  v.s.i.VerifyCodeServiceImpl#129 TraceID: 8c SpanID: 9f [verifyCode][Code not found]',
    );
    expect(a.level).toBe('info');
    expect(b.level).toBe('error');
    expect(a.content).toContain('VerifyCodeServiceImpl@line132');
    expect(b.content).toContain('VerifyCodeServiceImpl@line129');
    expect(parseLogLine('order #42 paid').content).toBe('order #42 paid');
  });
});
