import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { BASE_WINDOW, windowTuning } from './channel-window.js';
import {
  coalesceWrites,
  corkForThisTick,
  countReadsAsConsumed,
  pooledRandomFillSync,
  ssh2,
  takeReceiveWindow,
  tuneReceiveWindow,
} from './ssh2-adapter.js';

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

  describe('patch channel-window-owner', () => {
    type ChannelModule = {
      Channel: new (
        client: unknown,
        info: unknown,
      ) => import('node:stream').Duplex & { incoming: { window: number }; ownWindow(): void };
      windowAdjust(channel: unknown): void;
      MAX_WINDOW: number;
    };
    const mod = require('ssh2/lib/Channel.js') as ChannelModule;
    const make = () => {
      const adjusts: number[] = [];
      const client = { _protocol: { channelWindowAdjust: (_id: number, n: number) => adjusts.push(n) } };
      const channel = new mod.Channel(client, {
        type: 'direct-tcpip',
        incoming: { id: 0, window: mod.MAX_WINDOW, packetSize: 32 * 1024, state: 'open' },
        outgoing: { id: 7, window: mod.MAX_WINDOW, packetSize: 32 * 1024, state: 'open' },
      });
      return { channel, adjusts };
    };

    it('without an owner, ssh2 tops the window up itself', () => {
      const { channel, adjusts } = make();
      channel.incoming.window = 1000;
      mod.windowAdjust(channel);
      expect(adjusts).toEqual([mod.MAX_WINDOW - 1000]);
    });

    it('an owned window is only ever granted by its owner', () => {
      const { channel, adjusts } = make();
      const tuning = windowTuning();
      const window = takeReceiveWindow(tuneReceiveWindow(channel, tuning));
      expect(window).toBeDefined();
      channel.incoming.window = 1000; // 2 MiB - 1000 received, none consumed yet
      mod.windowAdjust(channel); // what ssh2 does on CHANNEL_DATA and _read
      expect(adjusts).toEqual([]);
      window?.consumed(BASE_WINDOW - 1000);
      expect(adjusts).toEqual([BASE_WINDOW - 1000]);
      expect(channel.incoming.window).toBe(BASE_WINDOW);
      window?.close();
    });

    it('a jump channel counts what its session reads, and reads nothing before the session listens', async () => {
      const { channel, adjusts } = make();
      tuneReceiveWindow(channel, windowTuning());
      countReadsAsConsumed(channel);
      expect(channel.isPaused()).toBe(true);
      const packet = Buffer.alloc(32 * 1024);
      for (let i = 0; i < 16; i++) {
        channel.incoming.window -= packet.length; // as ssh2 does on CHANNEL_DATA
        channel.push(packet);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(adjusts).toEqual([]); // nobody has read them yet
      let read = 0;
      channel.on('data', (chunk: Buffer) => {
        read += chunk.length;
      });
      channel.resume(); // what ssh2's Client does once it listens
      await new Promise((resolve) => setImmediate(resolve));
      expect(read).toBe(16 * packet.length);
      expect(adjusts.reduce((a, b) => a + b, 0)).toBe(16 * packet.length); // topped up to the window again
      expect(takeReceiveWindow(channel)).toBeUndefined(); // taken
    });

    it('only the first consumer takes the window over; plain streams have none', async () => {
      const { channel } = make();
      tuneReceiveWindow(channel, windowTuning());
      expect(takeReceiveWindow(channel)).toBeDefined();
      expect(takeReceiveWindow(channel)).toBeUndefined();
      const { PassThrough } = await import('node:stream');
      expect(takeReceiveWindow(tuneReceiveWindow(new PassThrough(), windowTuning()))).toBeUndefined();
    });
  });

  describe('write batching', () => {
    const recorder = async () => {
      const { Writable } = await import('node:stream');
      const calls: number[] = [];
      const stream = new Writable({
        write(_chunk, _enc, cb) {
          calls.push(1);
          cb();
        },
        writev(chunks, cb) {
          calls.push(chunks.length);
          cb();
        },
      });
      return { stream, calls };
    };

    it('sends every packet ssh2 writes in one tick as one writev, and does not hold them past it', async () => {
      const { stream, calls } = await recorder();
      const socket = coalesceWrites(stream);
      socket.write(Buffer.from('a'));
      socket.write(Buffer.from('b'));
      socket.write(Buffer.from('c'));
      expect(calls).toEqual([]);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(calls).toEqual([3]);
      socket.write(Buffer.from('d'));
      await new Promise((resolve) => process.nextTick(resolve));
      expect(calls).toEqual([3, 1]);
    });

    it('corks a stream written from one place until the end of the tick', async () => {
      const { stream, calls } = await recorder();
      corkForThisTick(stream);
      corkForThisTick(stream); // once per tick
      stream.write(Buffer.from('a'));
      stream.write(Buffer.from('b'));
      await new Promise((resolve) => process.nextTick(resolve));
      expect(calls).toEqual([2]);
      expect(stream.writableCorked).toBe(0);
    });
  });
});
