import { describe, expect, it } from 'vitest';
import { expandHostlist, firstHost, HostlistError } from './hostlist.js';

// Node lists as squeue %N / scontrol NodeList= print them on real clusters.
describe('expandHostlist', () => {
  it.each([
    ['node1', ['node1']],
    ['node[1-3,7]', ['node1', 'node2', 'node3', 'node7']],
    ['gpu-a[01-02],cpu-b5', ['gpu-a01', 'gpu-a02', 'cpu-b5']],
    ['holy7c[0901-0903]', ['holy7c0901', 'holy7c0902', 'holy7c0903']],
    ['node[08-11]', ['node08', 'node09', 'node10', 'node11']],
    ['node[8-11]', ['node8', 'node9', 'node10', 'node11']],
    ['r[1-2]n[01-02]', ['r1n01', 'r1n02', 'r2n01', 'r2n02']],
    ['rack[1,3]-gpu', ['rack1-gpu', 'rack3-gpu']],
    ['a[1-2],b[10,12-13],c', ['a1', 'a2', 'b10', 'b12', 'b13', 'c']],
    ['seas-gpu[001,003]', ['seas-gpu001', 'seas-gpu003']],
    ['', []],
  ])('%s', (hostlist, hosts) => {
    expect(expandHostlist(hostlist)).toEqual(hosts);
  });

  it('rejects what is not a hostlist', () => {
    for (const bad of ['node[1-3', 'node1-3]', 'node[a-b]', 'node[3-1]', 'n[[1]]', 'node[]']) {
      expect(() => expandHostlist(bad), bad).toThrow(HostlistError);
    }
  });
});

describe('firstHost', () => {
  it('is the first node (where the batch script runs) without expanding the rest', () => {
    expect(firstHost('gpu-a[01-02],cpu-b5')).toBe('gpu-a01');
    expect(firstHost('node[1-100000000]')).toBe('node1');
    expect(firstHost('')).toBeUndefined();
  });
});
