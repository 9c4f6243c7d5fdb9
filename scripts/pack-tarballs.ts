/**
 * `npm run tarballs [-- DIR]`: the three publishable packages as npm tarballs in DIR (default
 * ./tarballs), exactly what `npm publish <tarball>` uploads and `npm i -g <tarballs>` installs.
 *
 * @fwd/ws-transport and @fwd/cli are `npm pack` as they are. @fwd/core carries ssh2 as a bundled
 * dependency: fwd runs ssh2 with the small patches in patches/ (patch-package applies them to
 * this checkout at `npm ci`), and a plain dependency would give every user the unpatched ssh2
 * from the registry (no certificate logins, no tuned channel windows). patch-package's own advice
 * for libraries is to bundle. npm cannot bundle a workspace's hoisted dependencies (npm/cli#3466),
 * so core is staged in a temp dir with ssh2 and its dependencies copied from node_modules, minus
 * native build output (ssh2's install script builds it on the user's machine), tests and examples.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dest = resolve(process.argv[2] ?? join(root, 'tarballs'));

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  bundleDependencies?: string[];
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Runs npm pack with --json and returns the tarball's file name. */
function npmPack(args: string[], cwd: string): string {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [result] = JSON.parse(out) as Array<{ filename: string }>;
  if (!result) throw new Error(`npm pack ${args.join(' ')} printed no result`);
  return join(dest, basename(result.filename));
}

/** The directories of `name` and of everything it needs at run or build time, from `fromDir`. */
function dependencyClosure(name: string, fromDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const pending: Array<[string, string]> = [[name, fromDir]];
  while (pending.length > 0) {
    const [dep, from] = pending.pop() as [string, string];
    const dir = dirname(createRequire(join(from, 'package.json')).resolve(`${dep}/package.json`));
    const seen = found.get(dep);
    if (seen !== undefined) {
      if (readManifest(seen).version !== readManifest(dir).version)
        throw new Error(`two versions of ${dep} under ${name}: a flat bundle cannot hold both`);
      continue;
    }
    found.set(dep, dir);
    const manifest = readManifest(dir);
    for (const next of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      pending.push([next, dir]);
  }
  return found;
}

/** Native build output and what users never run: not shipped. */
const LEFT_OUT = new Set(['build', 'test', 'tests', 'examples', '.github', 'node_modules']);

/**
 * The patches/ssh2+* files whose added lines are not all in the copy under `modules`: what
 * patch-package would have applied, checked on the files that will ship.
 */
function unappliedPatches(modules: string): string[] {
  const dir = join(root, 'patches');
  return readdirSync(dir)
    .filter((f) => f.startsWith('ssh2+') && f.endsWith('.patch'))
    .filter((patch) => {
      let file = '';
      for (const line of readFileSync(join(dir, patch), 'utf8').split('\n')) {
        if (line.startsWith('+++ b/node_modules/')) file = line.slice('+++ b/node_modules/'.length);
        else if (line.startsWith('+') && !line.startsWith('+++') && line.trim() !== '+') {
          if (!readFileSync(join(modules, file), 'utf8').includes(line.slice(1))) return true;
        }
      }
      return false;
    });
}

function packCore(): string {
  const pkgDir = join(root, 'packages/core');
  const stage = mkdtempSync(join(tmpdir(), 'fwd-pack-core-'));
  try {
    // The files npm would pack from the workspace (its `files`), then the bundle beside them.
    const listing = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: pkgDir, encoding: 'utf8' });
    const [dryRun] = JSON.parse(listing) as Array<{ files: Array<{ path: string }> }>;
    for (const { path } of dryRun?.files ?? []) {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      cpSync(join(pkgDir, path), join(stage, path));
    }
    for (const [dep, dir] of dependencyClosure('ssh2', pkgDir)) {
      cpSync(dir, join(stage, 'node_modules', dep), {
        recursive: true,
        filter: (source) => !LEFT_OUT.has(basename(source)) || source === dir,
      });
    }
    const manifest = readManifest(stage);
    writeFileSync(
      join(stage, 'package.json'),
      `${JSON.stringify({ ...manifest, bundleDependencies: ['ssh2'] }, null, 2)}\n`,
    );
    const unpatched = unappliedPatches(join(stage, 'node_modules'));
    if (unpatched.length > 0)
      throw new Error(`ssh2 lacks ${unpatched.join(', ')}: run npm ci (its postinstall applies patches/)`);
    return npmPack([], stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (!existsSync(join(root, 'packages/cli/dist/main.js'))) throw new Error('build first: npm run build');
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
const tarballs = [packCore(), npmPack(['-w', '@fwd/ws-transport'], root), npmPack(['-w', '@fwd/cli'], root)];
// A tarball name per line: `npm i -g $(npm run -s tarballs)` style use.
for (const file of tarballs) process.stdout.write(`${file}\n`);
