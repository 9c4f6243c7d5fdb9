import { describe, expect, it } from 'vitest';
import {
  BASE_WINDOW,
  ReceiveWindow,
  RttEstimate,
  WindowBudget,
  type WindowTuning,
  windowTuning,
} from './channel-window.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PACKET = 32 * KiB;

/**
 * A simulated path, millisecond by millisecond: the sender sends up to `lineMiBps` while the
 * window it knows of allows; data and window adjusts each take rtt/2 to cross; the local reader
 * takes at most `readerMiBps` of what arrived, in 32 KiB packets.
 */
function simulate(options: {
  rttMs: number;
  lineMiBps: number;
  readerMiBps: number | ((ms: number) => number);
  seconds: number;
  tuning: WindowTuning;
  /** Checked after every step. */
  check?: (w: ReceiveWindow) => void;
}) {
  const { rttMs, tuning } = options;
  const half = rttMs / 2;
  let now = 0;
  let granted = BASE_WINDOW; // at the receiver
  let received = 0;
  let consumed = 0;
  let sent = 0;
  let senderEdge = BASE_WINDOW; // what the sender knows it may send up to
  const adjustsInFlight: Array<{ at: number; bytes: number }> = [];
  const dataInFlight: Array<{ at: number; bytes: number }> = [];
  let maxOutstanding = 0;
  let maxHeld = 0;
  /** msAt[n]: when the reader had consumed n MiB. */
  const msAt: number[] = [];
  const w = new ReceiveWindow(
    {
      grant: (bytes) => {
        granted += bytes;
        adjustsInFlight.push({ at: now + half, bytes });
      },
      remaining: () => granted - received,
    },
    tuning,
    BASE_WINDOW,
    () => now,
  );
  const linePerMs = (options.lineMiBps * MiB) / 1000;
  const reader = options.readerMiBps;
  const readerPerMs = (ms: number): number =>
    ((typeof reader === 'number' ? reader : reader(ms)) * MiB) / 1000;
  let readerCredit = 0;
  for (now = 0; now < options.seconds * 1000; now++) {
    while (adjustsInFlight[0] && adjustsInFlight[0].at <= now)
      senderEdge += adjustsInFlight.shift()?.bytes ?? 0;
    const send = Math.min(linePerMs, senderEdge - sent);
    if (send > 0) {
      sent += send;
      dataInFlight.push({ at: now + half, bytes: send });
    }
    while (dataInFlight[0] && dataInFlight[0].at <= now) received += dataInFlight.shift()?.bytes ?? 0;
    expect(received).toBeLessThanOrEqual(granted); // the sender never overran the window
    readerCredit = Math.min(readerCredit + readerPerMs(now), 4 * MiB);
    while (received - consumed >= PACKET && readerCredit >= PACKET) {
      consumed += PACKET;
      readerCredit -= PACKET;
      w.consumed(PACKET);
      if (consumed % MiB === 0) msAt[consumed / MiB] = now;
      options.check?.(w);
    }
    maxOutstanding = Math.max(maxOutstanding, w.outstanding);
    maxHeld = Math.max(maxHeld, received - consumed);
  }
  return { w, consumedMiB: consumed / MiB, maxOutstanding, maxHeld, msAt };
}

describe('ReceiveWindow', () => {
  it('grows on a long fast path until the window no longer limits throughput', () => {
    const tuning = windowTuning(64 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50); // as the channel open would have measured
    const { w, consumedMiB } = simulate({ rttMs: 50, lineMiBps: 200, readerMiBps: 1000, seconds: 3, tuning });
    // 2 MiB per 50 ms would be 40 MiB/s: the grown window carries close to the line rate.
    expect(consumedMiB / 3).toBeGreaterThan(150);
    // bandwidth-delay product 10 MiB: the window settles near twice that, under the ceiling
    expect(w.size).toBeGreaterThanOrEqual(10 * MiB);
    expect(w.size).toBeLessThanOrEqual(64 * MiB);
  });

  it('doubles the window every round trip while the sender uses all of it (a 64 MiB download in 7 round trips, not 32)', () => {
    const tuning = windowTuning(32 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50); // an earlier channel of the session measured it
    const { msAt } = simulate({ rttMs: 50, lineMiBps: 2000, readerMiBps: 5000, seconds: 2, tuning });
    // 2 MiB per round trip would take 32 of them. Doubling: 2 + 4 + 8 + 16 + 32 = 62 MiB in five
    // round trips of data after the first half one, and the grants trail the reader by an eighth.
    expect(msAt[64]).toBeDefined();
    expect(msAt[64]).toBeLessThanOrEqual(7 * 50);
  });

  it("starts a session's next channel at half the window the earlier ones reached", () => {
    const budget = new WindowBudget(1024 * MiB);
    const tuning = windowTuning(32 * MiB, budget);
    tuning.rtt.sample(50);
    const first = simulate({ rttMs: 50, lineMiBps: 2000, readerMiBps: 5000, seconds: 2, tuning });
    expect(tuning.path.reached).toBe(32 * MiB);
    first.w.close();
    const second = simulate({ rttMs: 50, lineMiBps: 2000, readerMiBps: 5000, seconds: 2, tuning });
    expect(second.msAt[64]).toBeLessThan(first.msAt[64] ?? 0);
    // 16 MiB at once, then one doubling: 16 + 32 MiB in two round trips, the rest in the third.
    expect(second.msAt[64]).toBeLessThanOrEqual(4 * 50);
    second.w.close();
    expect(budget.free).toBe(1024 * MiB);
  });

  it('holds no more than its starting window for a reader that does not read', () => {
    const tuning = windowTuning(32 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50);
    tuning.path.note(32 * MiB);
    const { w, maxHeld } = simulate({
      rttMs: 50,
      lineMiBps: 2000,
      readerMiBps: 0,
      seconds: 1,
      tuning,
      check: (win) => expect(win.outstanding).toBeLessThanOrEqual(win.size),
    });
    expect(w.size).toBe(16 * MiB);
    expect(maxHeld).toBe(16 * MiB);
  });

  it('lets starting windows take only half the budget, so idle channels cannot starve a download', () => {
    const budget = new WindowBudget(64 * MiB);
    const tuning = windowTuning(32 * MiB, budget);
    tuning.rtt.sample(50);
    tuning.path.note(32 * MiB);
    const idle = Array.from(
      { length: 10 },
      () => new ReceiveWindow({ grant: () => {}, remaining: () => 0 }, tuning, BASE_WINDOW, () => 0),
    );
    expect(idle[0]?.size).toBe(16 * MiB);
    expect(budget.free).toBe(32 * MiB);
    expect(idle[9]?.size).toBe(BASE_WINDOW);
    // A download on the same session still grows to the ceiling with what is left.
    const { w } = simulate({ rttMs: 50, lineMiBps: 2000, readerMiBps: 5000, seconds: 2, tuning });
    expect(w.size).toBe(32 * MiB);
    for (const window of [...idle, w]) window.close();
    expect(budget.free).toBe(64 * MiB);
  });

  it('learns the round trip from its own adjusts when no estimate is given', () => {
    const tuning = windowTuning(64 * MiB, new WindowBudget(1024 * MiB));
    const { consumedMiB } = simulate({ rttMs: 50, lineMiBps: 200, readerMiBps: 1000, seconds: 3, tuning });
    expect(tuning.rtt.ms).toBeGreaterThanOrEqual(50);
    expect(tuning.rtt.ms).toBeLessThan(60);
    expect(consumedMiB / 3).toBeGreaterThan(150);
  });

  it('keeps the base window when the path is short', () => {
    const tuning = windowTuning(64 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(2); // the channel open
    const { w, consumedMiB } = simulate({ rttMs: 2, lineMiBps: 200, readerMiBps: 1000, seconds: 1, tuning });
    expect(consumedMiB).toBeGreaterThan(190);
    expect(w.size).toBe(BASE_WINDOW);
  });

  it('never has more granted-but-unconsumed bytes than the window, with a 64 MiB ceiling and a slow reader', () => {
    const tuning = windowTuning(64 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50);
    const { w, maxOutstanding, maxHeld } = simulate({
      rttMs: 50,
      lineMiBps: 200,
      readerMiBps: 5,
      seconds: 5,
      tuning,
      check: (win) => expect(win.outstanding).toBeLessThanOrEqual(win.size),
    });
    // The reader takes 5 MiB/s = 0.25 MiB per round trip: no reason to grow past the base window.
    expect(w.size).toBe(BASE_WINDOW);
    expect(maxOutstanding).toBeLessThanOrEqual(BASE_WINDOW);
    expect(maxHeld).toBeLessThanOrEqual(BASE_WINDOW);
  });

  it('stops granting while the reader stalls after a fast start: what we hold stays within the window', () => {
    const tuning = windowTuning(64 * MiB, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50);
    const run = simulate({
      rttMs: 50,
      lineMiBps: 200,
      readerMiBps: (ms) => (ms < 1500 ? 1000 : 0),
      seconds: 3,
      tuning,
      check: (w) => {
        expect(w.outstanding).toBeLessThanOrEqual(w.size);
      },
    });
    const sizeAtStall = run.w.size;
    expect(sizeAtStall).toBeGreaterThan(8 * MiB); // it had grown
    // everything granted arrived and sits unread: exactly what the window allowed, no more
    expect(run.maxHeld).toBeLessThanOrEqual(sizeAtStall);
    expect(run.maxOutstanding).toBeLessThanOrEqual(sizeAtStall);
  });

  it('takes growth from the shared budget and gives it back at close', () => {
    const budget = new WindowBudget(6 * MiB);
    const a = windowTuning(64 * MiB, budget);
    a.rtt.sample(50);
    const first = simulate({ rttMs: 50, lineMiBps: 200, readerMiBps: 1000, seconds: 2, tuning: a });
    expect(first.w.size).toBe(BASE_WINDOW + 6 * MiB);
    expect(budget.free).toBe(0);
    const b = windowTuning(64 * MiB, budget);
    b.rtt.sample(50);
    const second = simulate({ rttMs: 50, lineMiBps: 200, readerMiBps: 1000, seconds: 1, tuning: b });
    expect(second.w.size).toBe(BASE_WINDOW); // nothing left to grow with
    first.w.close();
    first.w.close(); // idempotent
    expect(budget.free).toBe(6 * MiB);
  });

  it('with the ceiling at the base window, never grows (OpenSSH behaviour)', () => {
    const tuning = windowTuning(BASE_WINDOW, new WindowBudget(1024 * MiB));
    tuning.rtt.sample(50);
    const { w, consumedMiB } = simulate({ rttMs: 50, lineMiBps: 200, readerMiBps: 1000, seconds: 2, tuning });
    expect(w.size).toBe(BASE_WINDOW);
    expect(consumedMiB / 2).toBeLessThanOrEqual(40); // one window per round trip
  });
});

describe('RttEstimate', () => {
  it('keeps the smallest sample: a sample is never below the true round trip', () => {
    const rtt = new RttEstimate();
    expect(rtt.ms).toBeUndefined();
    rtt.sample(80);
    rtt.sample(52);
    rtt.sample(300);
    rtt.sample(0); // not a measurement
    expect(rtt.ms).toBe(52);
  });
});
