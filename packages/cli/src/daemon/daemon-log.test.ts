import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptLog, currentLog, discardStartingLog, startingLogPath } from './daemon-log.js';

describe('daemon logs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-daemon-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keep the previous run as NAME.log.1, and never more than two runs', async () => {
    const log = join(dir, 't.log');
    for (const run of ['first', 'second', 'third']) {
      const starting = startingLogPath(log, 42);
      await writeFile(starting, `${run}\n`);
      expect(currentLog(starting, log)).toBe(starting);
      await adoptLog(starting, log);
      expect(currentLog(starting, log)).toBe(log);
    }
    expect((await readdir(dir)).sort()).toEqual(['t.log', 't.log.1']);
    expect(await readFile(log, 'utf8')).toBe('third\n');
    expect(await readFile(`${log}.1`, 'utf8')).toBe('second\n');
  });

  it('a start that never owned the name leaves the running log alone and no file behind', async () => {
    const log = join(dir, 't.log');
    await writeFile(log, 'running\n');
    const starting = startingLogPath(log, 43);
    await writeFile(starting, 'lost the race\n');
    await discardStartingLog(starting);
    expect(await readdir(dir)).toEqual(['t.log']);
    expect(await readFile(log, 'utf8')).toBe('running\n');
  });
});
