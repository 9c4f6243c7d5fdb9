import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstInvalidUtf8, MAX_CONFIG_BYTES, readConfigFile } from './config-file.js';
import { loadConfig } from './load.js';
import { buildPlan } from './plan.js';
import { formatProblem } from './problems.js';
import { MAX_ALIAS_EXPANSION, MAX_NESTING } from './yaml-index.js';

const problems = (text: string): string[] => loadConfig(text, 'tunnels.yaml', {}).problems.map(formatProblem);

/**
 * How many array elements `run` visits: for-of (and spread), and the callbacks of find, some,
 * filter, map, ... plus the length scanned by indexOf/includes. A deterministic measure of work,
 * unlike time: quadratic code shows as 16× the visits for 4× the input, whatever the machine.
 */
function arrayVisits(run: () => void): number {
  let visits = 0;
  const iteratorProto = Object.getPrototypeOf([][Symbol.iterator]()) as { next: () => unknown };
  const next = iteratorProto.next;
  const proto = Array.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const callbackMethods = [
    'find',
    'findIndex',
    'findLast',
    'some',
    'every',
    'filter',
    'map',
    'flatMap',
    'forEach',
    'reduce',
  ];
  const scans = ['indexOf', 'includes', 'lastIndexOf'];
  const originals = new Map(
    [...callbackMethods, ...scans].map((m) => [m, proto[m] as (...a: unknown[]) => unknown]),
  );
  iteratorProto.next = function (this: unknown) {
    visits++;
    return next.call(this);
  };
  for (const m of callbackMethods) {
    const original = originals.get(m) as (...a: unknown[]) => unknown;
    proto[m] = function (this: unknown[], callback: unknown, ...rest: unknown[]) {
      const counted =
        typeof callback === 'function'
          ? (...args: unknown[]) => {
              visits++;
              return (callback as (...a: unknown[]) => unknown)(...args);
            }
          : callback;
      return original.call(this, counted, ...rest);
    };
  }
  for (const m of scans) {
    const original = originals.get(m) as (...a: unknown[]) => unknown;
    proto[m] = function (this: unknown[], ...args: unknown[]) {
      visits += this.length;
      return original.apply(this, args);
    };
  }
  try {
    run();
  } finally {
    iteratorProto.next = next;
    for (const [m, original] of originals) proto[m] = original;
  }
  return visits;
}

/** Work for n and 4n: linear code grows ~4×, quadratic ~16×. */
function growth(
  file: (n: number) => string,
  after: (text: string) => void = (t) => void problems(t),
): number {
  const small = file(250);
  const large = file(1000);
  after(small); // warm up lazy initialisation (schema compilation) outside the count
  return arrayVisits(() => after(large)) / arrayVisits(() => after(small));
}

const repeat = (n: number, line: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => line(i)).join('\n');

describe('bad input: work grows linearly with the file (issue 17.13)', () => {
  it('many tunnels, each with a problem', () => {
    expect(
      growth(
        (n) =>
          `version: 1\ntunnels:\n${repeat(n, (i) => `  t${i}: { host: h${i}, local: "8888:localhost:80" }`)}\n`,
      ),
    ).toBeLessThan(6);
  });
  it('many unknown keys in one mapping', () => {
    expect(growth((n) => `version: 1\ntunnels: {}\n${repeat(n, (i) => `k${i}: 1`)}\n`)).toBeLessThan(6);
  });
  it('many keys of one tunnel that are wrong', () => {
    expect(
      growth((n) => `version: 1\ntunnels:\n  a:\n    host: x@y\n${repeat(n, (i) => `    bogus${i}: 1`)}\n`),
    ).toBeLessThan(6);
  });
  it('many anchors and aliases', () => {
    expect(
      growth((n) => `version: 1\ntunnels: {}\nx:\n${repeat(n, (i) => `  - [&a${i} 1, *a${i}]`)}\n`),
    ).toBeLessThan(6);
  });
  it('a long chain of jumps, and many hosts that tunnels name', () => {
    const chain = (n: number) =>
      `version: 1\nhosts:\n${repeat(n, (i) => `  h${i}: { host: 10.0.0.1, jump: h${i + 1} }`)}\n  h${n}: { host: 10.0.0.2 }\ntunnels:\n${repeat(n, (i) => `  t${i}: { host: h${i}, local: "0:localhost:80" }`)}\n`;
    expect(growth(chain)).toBeLessThan(6);
  });
  it('many hosts resolved into a plan', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fwd-bad-plan-'));
    try {
      const file = (n: number) =>
        `version: 1\nhosts:\n${repeat(n, (i) => `  h${i}: { host: 10.0.0.1 }`)}\ntunnels:\n${repeat(n, (i) => `  t${i}: { host: h${i}, local: "0:localhost:80" }`)}\n`;
      const ssh = { homeDir: home, user: 'alice', env: {} };
      const plan = (text: string) => {
        const { config } = loadConfig(text, 'tunnels.yaml', {});
        if (config) buildPlan(config, ssh);
      };
      expect(growth(file, plan)).toBeLessThan(6);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
  it('many forwards on the same port', () => {
    expect(
      growth(
        (n) =>
          `version: 1\ntunnels:\n${repeat(n, (i) => `  t${i}: { host: a@b, local: "8888:localhost:80" }`)}\n`,
      ),
    ).toBeLessThan(6);
  });
});

describe('bad input: hostile YAML is a located problem, never an internal error (issue 17.12)', () => {
  it('an alias bomb is refused at the alias where it crosses the budget', () => {
    const bomb = [
      'version: 1',
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'tunnels: {}',
      '',
    ].join('\n');
    expect(problems(bomb)).toEqual([
      `tunnels.yaml:7:8  aliases expand to more than ${MAX_ALIAS_EXPANSION} values by here (an alias bomb?); write the values out`,
    ]);
  });
  it('reuses anchors as values, shared like the yaml library does', () => {
    const { config, problems: found } = loadConfig(
      'version: 1\nhosts:\n  a: &h { host: 10.0.0.1, user: alice }\n  b: *h\ntunnels:\n  t: { host: b, local: 8888:localhost:8888 }\n',
      'tunnels.yaml',
      {},
    );
    expect(found).toEqual([]);
    expect(config?.hosts.map((h) => [h.name, h.host, h.user])).toEqual([
      ['a', '10.0.0.1', 'alice'],
      ['b', '10.0.0.1', 'alice'],
    ]);
  });
  it('an alias without anchor, and an alias inside its own anchor', () => {
    expect(problems('version: 1\ntunnels: *nope\n')).toEqual([
      'tunnels.yaml:2:10  alias *nope has no anchor &nope before it',
    ]);
    expect(problems('version: 1\nx: &a [1, *a]\ntunnels: {}\n')).toEqual([
      'tunnels.yaml:2:11  alias *a is inside its own anchor',
    ]);
  });
  it('nesting deeper than any config needs', () => {
    const deep = `version: 1\ntunnels: {}\nx: ${'['.repeat(MAX_NESTING + 5)}${']'.repeat(MAX_NESTING + 5)}\n`;
    expect(problems(deep)).toEqual([
      `tunnels.yaml:3:${MAX_NESTING + 4}  nested more than ${MAX_NESTING} levels deep`,
    ]);
  });
  it('a key that is a list or a mapping; duplicate keys still found, at the second one', () => {
    expect(problems('version: 1\ntunnels: {}\n? [a]\n: 1\n')).toEqual([
      'tunnels.yaml:3:3  a key must be a plain word, not a list, mapping or alias',
    ]);
    expect(problems('version: 1\ntunnels: {}\nversion: 1\n')).toEqual([
      'tunnels.yaml:3:1  duplicate key (each key may appear once in a mapping)',
    ]);
  });
  it('a key named __proto__ is a key, not a prototype', () => {
    expect(problems('version: 1\ntunnels: {}\n__proto__: { polluted: 1 }\n')).toEqual([
      'tunnels.yaml:3:1  __proto__: unknown key "__proto__" (expected version, defaults, hosts, tunnels)',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('a very long value is cut short in the message', () => {
    const long = 'h'.repeat(100_000);
    const [message] = problems(`version: 1\ntunnels:\n  a: { host: "${long}", local: 8888 }\n`);
    expect(message?.length).toBeLessThan(400);
    expect(message).toContain('… (100000 characters)"');
  });
});

describe('bad input: the file itself (issue 17.13, 17.15)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-bad-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a file over 1 MiB, reading no more than 1 MiB of it', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, `version: 1\nx: "${'x'.repeat(50 * MAX_CONFIG_BYTES)}"\n`);
    const read = await readConfigFile(path, 'big.yaml');
    expect(read).toEqual({
      problems: [
        {
          file: 'big.yaml',
          line: 1,
          col: 1,
          path: '',
          message: `the file is ${50 * MAX_CONFIG_BYTES + 17} bytes; a tunnels file may be at most 1 MiB (1048576 bytes): is this the right file?`,
        },
      ],
    });
  });
  it('reads a file of exactly 1 MiB', async () => {
    const path = join(dir, 'max.yaml');
    const head = 'version: 1\ntunnels: {}\n#';
    await writeFile(path, `${head}${'x'.repeat(MAX_CONFIG_BYTES - head.length)}`);
    const read = await readConfigFile(path, 'max.yaml');
    expect('text' in read && read.text.length).toBe(MAX_CONFIG_BYTES);
  });
  it('rejects bytes that are not UTF-8 with their offset and position', async () => {
    const path = join(dir, 'latin1.yaml');
    await writeFile(
      path,
      Buffer.concat([
        Buffer.from('version: 1\ntunnels:\n  a: { host: "gr'),
        Buffer.from([0xfc]),
        Buffer.from('n" }\n'),
      ]),
    );
    expect(await readConfigFile(path, 'latin1.yaml')).toEqual({
      problems: [
        {
          file: 'latin1.yaml',
          line: 3,
          col: 17,
          path: '',
          message: 'not UTF-8: byte 0xfc at offset 36; save the file as UTF-8',
        },
      ],
    });
  });
  it('finds the first byte that breaks UTF-8 (RFC 3629)', () => {
    const at = (...bytes: number[]) => firstInvalidUtf8(Uint8Array.from(bytes));
    expect(at(0x61, 0xc3, 0xa9, 0x62)).toBe(4); // é is fine
    expect(at(0xf0, 0x9f, 0x98, 0x80)).toBe(4); // 😀 is fine
    expect(at(0x61, 0xc0, 0xaf)).toBe(1); // overlong "/"
    expect(at(0xed, 0xa0, 0x80)).toBe(0); // a surrogate
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // above U+10FFFF
    expect(at(0x61, 0xe2, 0x82)).toBe(1); // cut short
    expect(at(0x61, 0x80)).toBe(1); // a lone continuation byte
  });
});
