import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { pooledRandomFillSync, ssh2 } from './ssh2-adapter.js';

const require = createRequire(import.meta.url);

describe('ssh2 adapter', () => {
  it('serves padding from a CSPRNG pool without ever handing a byte out twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const packet = Buffer.alloc(40);
      pooledRandomFillSync(packet, 20, 16);
      expect(packet.subarray(0, 20).every((b) => b === 0)).toBe(true);
      expect(packet.subarray(36).every((b) => b === 0)).toBe(true);
      const pad = packet.subarray(20, 36).toString('hex');
      expect(seen.has(pad)).toBe(false);
      seen.add(pad);
    }
    // 5000 × 16 bytes crossed the 64 KiB pool boundary at least once.
    expect(seen.size).toBe(5000);
  });

  it('passes large requests straight to the CSPRNG', () => {
    const big = Buffer.alloc(4096);
    pooledRandomFillSync(big);
    expect(big.some((b) => b !== 0)).toBe(true);
  });

  it('closes an already-ended channel without ending it again', () => {
    const { Channel } = require('ssh2/lib/Channel.js') as {
      Channel: { prototype: { destroy(this: object): unknown } };
    };
    const ended = { writableEnded: true, end: vi.fn(), close: vi.fn() };
    Channel.prototype.destroy.call(ended);
    expect(ended.end).not.toHaveBeenCalled();
    expect(ended.close).toHaveBeenCalledOnce();
    const open = { writableEnded: false, end: vi.fn(), close: vi.fn() };
    Channel.prototype.destroy.call(open);
    expect(open.end).toHaveBeenCalledOnce();
    expect(typeof ssh2.Client).toBe('function');
  });

  it('is in effect in a fresh process that loads @fwd/core (nothing loads ssh2 before it)', () => {
    const dist = new URL('../dist/index.js', import.meta.url).pathname;
    const adapter = new URL('../dist/ssh2-adapter.js', import.meta.url).pathname;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(dist)}); const a = await import(${JSON.stringify(adapter)}); console.log(a.paddingPooled);`,
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('true');
  });
});
