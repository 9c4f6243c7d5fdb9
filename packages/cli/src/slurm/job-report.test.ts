import type { GateContext, TunnelFacts } from '@fwd/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobReport } from './job-report.js';

afterEach(() => vi.restoreAllMocks());

function context() {
  const facts: TunnelFacts[] = [];
  const notices: Array<{ level: string; message: string; facts?: TunnelFacts }> = [];
  const ctx: GateContext = {
    acquire: () => Promise.reject(new Error('no session in this test')),
    signal: new AbortController().signal,
    progress: (_detail, f) => {
      if (f) facts.push(f);
    },
    notice: (level, message, f) => notices.push({ level, message, ...(f ? { facts: f } : {}) }),
  };
  return { ctx, facts, notices };
}

describe('JobReport', () => {
  it("gives a warning the job's own endsAt, to the millisecond, however the clock moved meanwhile", () => {
    // A clock that moves on every reading, as a real one does between two calls.
    let now = Date.parse('2026-12-07T12:00:00.000Z');
    vi.spyOn(Date, 'now').mockImplementation(() => now++);
    const { ctx, facts, notices } = context();
    const endsAt = now + 30_000; // already inside the 1 min mark: the warning comes at once
    using _report = new JobReport({
      ctx,
      job: { id: '4', name: 'short', state: 'RUNNING', reason: 'None', nodes: 'node1', endsAt },
      node: 'node1',
      marks: [60_000],
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]?.facts?.endsAt).toBe(new Date(endsAt).toISOString());
    expect(facts.at(-1)?.endsAt).toBe(new Date(endsAt).toISOString());
  });
});
