import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  daemonNameForCommand,
  daemonNameForFile,
  MAX_NAME_LENGTH,
  matchDaemons,
  sanitizeStem,
  stemOf,
} from './daemon-name.js';

describe('daemon names', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-name-'));
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'tunnels.yaml'), '');
    await writeFile(join(dir, 'b', 'tunnels.yaml'), '');
    await symlink(join(dir, 'a', 'tunnels.yaml'), join(dir, 'link.yaml'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a file by its base name and a hash of its real path', () => {
    const name = daemonNameForFile(join(dir, 'a', 'tunnels.yaml'));
    expect(name).toMatch(/^tunnels-[0-9a-f]{6}$/);
    // The same file always collides with itself, however it is reached ...
    expect(daemonNameForFile(join(dir, 'a', '..', 'a', 'tunnels.yaml'))).toBe(name);
    expect(daemonNameForFile(join(dir, 'link.yaml'))).toBe(name);
    // ... and never with a namesake elsewhere.
    expect(daemonNameForFile(join(dir, 'b', 'tunnels.yaml'))).not.toBe(name);
  });

  it('sanitizes stems to [a-z0-9-] within a length that keeps socket paths short', () => {
    expect(sanitizeStem('My Cluster_Tunnels')).toBe('my-cluster-tunnels');
    expect(sanitizeStem('---')).toBe('fwd');
    expect(sanitizeStem('ümlaut.ß')).toBe('mlaut');
    expect(sanitizeStem('x'.repeat(60))).toHaveLength(24);
    expect(daemonNameForFile(`/tmp/${'y'.repeat(80)}.yaml`).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });

  it('names a one-off by its host and a hash of its arguments', () => {
    const a = daemonNameForCommand('alice@login.hpc.example.edu', [
      '-L',
      '8888:localhost:8888',
      'alice@login',
    ]);
    expect(a).toMatch(/^login-hpc-example-edu-[0-9a-f]{6}$/);
    expect(
      daemonNameForCommand('alice@login.hpc.example.edu', ['-L', '8888:localhost:8888', 'alice@login']),
    ).toBe(a);
    expect(
      daemonNameForCommand('alice@login.hpc.example.edu', ['-L', '8889:localhost:8888', 'alice@login']),
    ).not.toBe(a);
  });

  it('matches a name exactly, else by stem or by file base name', () => {
    const daemons = [
      { name: 'tunnels-aaaaaa', source: '/a/tunnels.yaml' },
      { name: 'tunnels-bbbbbb', source: '/b/tunnels.yaml' },
      { name: 'cluster-cccccc', source: '/c/cluster.yml' },
    ];
    expect(stemOf('tunnels-aaaaaa')).toBe('tunnels');
    expect(stemOf('no-hash')).toBe('no-hash');
    expect(matchDaemons('tunnels-bbbbbb', daemons).map((d) => d.name)).toEqual(['tunnels-bbbbbb']);
    expect(matchDaemons('cluster', daemons).map((d) => d.name)).toEqual(['cluster-cccccc']);
    expect(matchDaemons('cluster.yml', daemons).map((d) => d.name)).toEqual(['cluster-cccccc']);
    expect(matchDaemons('tunnels', daemons)).toHaveLength(2);
    expect(matchDaemons('nope', daemons)).toEqual([]);
  });
});
