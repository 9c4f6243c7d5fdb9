import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  loadMallocTrim,
  MEMORY_RETURN_MIN_BYTES,
  MEMORY_RETURN_QUIET_TICKS,
  MEMORY_RETURN_TICK_MS,
  MemoryReturn,
} from './memory-return.js';

const MiB = 1024 * 1024;

describe('MemoryReturn', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function rig() {
    let moved = 0;
    const calls: string[] = [];
    const memory = new MemoryReturn({
      bytesMoved: () => moved,
      collect: () => calls.push('collect'),
      trim: () => {
        calls.push('trim');
        return true;
      },
    });
    return {
      memory,
      calls,
      move: (n: number) => {
        moved += n;
      },
      tick: (n = 1) => vi.advanceTimersByTime(n * MEMORY_RETURN_TICK_MS),
    };
  }

  it('collects once a bulk transfer has rested for the quiet ticks, trims a quiet tick later', () => {
    const { memory, calls, move, tick } = rig();
    using _ = memory;
    for (let i = 0; i < 5; i++) {
      move(MEMORY_RETURN_MIN_BYTES / 2);
      tick();
    }
    expect(calls).toEqual([]); // never while bytes move
    tick(MEMORY_RETURN_QUIET_TICKS - 1);
    expect(calls).toEqual([]); // a pause between bursts is not a rest
    tick();
    expect(calls).toEqual(['collect']);
    tick();
    expect(calls).toEqual(['collect', 'trim']);
    expect(memory.returns).toBe(1);
    tick(3 * MEMORY_RETURN_QUIET_TICKS);
    expect(memory.returns).toBe(1); // nothing new moved: nothing more to return
  });

  it('leaves interactive traffic alone until it adds up to a bulk transfer', () => {
    const { memory, calls, move, tick } = rig();
    using _ = memory;
    const small = 64 * 1024;
    const bursts = MEMORY_RETURN_MIN_BYTES / small;
    for (let i = 1; i < bursts; i++) {
      move(small);
      tick(MEMORY_RETURN_QUIET_TICKS + 2); // rested, but not enough has moved yet
    }
    expect(calls).toEqual([]);
    move(small);
    tick(MEMORY_RETURN_QUIET_TICKS + 2);
    expect(calls).toEqual(['collect', 'trim']);
  });

  it('starts over when bytes move between the collection and the trim', () => {
    const { memory, calls, move, tick } = rig();
    using _ = memory;
    move(MEMORY_RETURN_MIN_BYTES);
    tick(MEMORY_RETURN_QUIET_TICKS + 1);
    expect(calls).toEqual(['collect']);
    move(1);
    tick(); // the burst goes on: its buffers are not dead yet
    tick(MEMORY_RETURN_QUIET_TICKS);
    expect(calls).toEqual(['collect', 'collect']);
    tick();
    expect(calls).toEqual(['collect', 'collect', 'trim']);
    expect(memory.returns).toBe(1);
  });

  it('stops ticking when disposed', () => {
    const { memory, calls, move, tick } = rig();
    memory[Symbol.dispose]();
    move(64 * MiB);
    tick(3 * MEMORY_RETURN_QUIET_TICKS);
    expect(calls).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

const glibc = process.platform === 'linux' && Boolean(glibcVersion());

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

describe.runIf(glibc)('malloc_trim (native, built at install)', () => {
  it('is built', () => {
    expect(loadMallocTrim()).toBeTypeOf('function');
  });

  it('hands back the pages of freed buffers that sit between live allocations', () => {
    const addon = fileURLToPath(new URL('../../build/Release/malloc_trim.node', import.meta.url));
    // 64 MiB of 32 KiB buffers (an SSH packet's size) interleaved with small live ones, as after a
    // transfer; freed and collected, they stay resident until malloc_trim.
    const script = `
      const { mallocTrim } = require(${JSON.stringify(addon)});
      const keep = [];
      let garbage = [];
      for (let i = 0; i < 2048; i++) {
        garbage.push(Buffer.allocUnsafeSlow(32768).fill(1));
        keep.push(Buffer.allocUnsafeSlow(64).fill(2));
      }
      const full = process.memoryUsage.rss();
      garbage = null;
      gc();
      const collected = process.memoryUsage.rss();
      mallocTrim();
      const trimmed = process.memoryUsage.rss();
      console.log(JSON.stringify({ full, collected, trimmed, kept: keep.length }));
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '-e', script], {
      encoding: 'utf8',
    });
    const { full, collected, trimmed } = JSON.parse(out) as {
      full: number;
      collected: number;
      trimmed: number;
    };
    // the scenario is real: collecting alone returns less than a quarter of the 64 MiB
    expect(full - collected).toBeLessThan(16 * MiB);
    // malloc_trim returns most of it
    expect(collected - trimmed).toBeGreaterThan(48 * MiB);
  });
});
