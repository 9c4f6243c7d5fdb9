import { chmod, lstat, mkdir } from 'node:fs/promises';
import { homedir, hostname, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type CliIO, complain, EXIT } from '../io.js';
import { MAX_NAME_LENGTH } from './daemon-name.js';

/** Where background fwds keep their logs and control sockets. */
export interface FwdDirs {
  /** NDJSON logs, `<name>.log`: $XDG_STATE_HOME/fwd, else ~/.local/state/fwd. */
  readonly state: string;
  /** Control sockets, `<name>.sock`: a 0700 directory of this user's (see {@link runDirFor}). */
  readonly run: string;
}

export interface DirContext {
  env: Record<string, string | undefined>;
  uid: number;
  home?: string;
  host?: string;
  tmp?: string;
}

// sun_path holds 104 bytes on macOS (108 on Linux), the terminating NUL included.
const MAX_SOCKET_PATH = 103;
const SOCKET_SUFFIX = '.sock';

/** $XDG_STATE_HOME/fwd (only an absolute value counts, as the XDG spec says), else ~/.local/state/fwd. */
export function stateDirFor(ctx: DirContext): string {
  const xdg = ctx.env.XDG_STATE_HOME;
  const home = ctx.env.HOME ?? ctx.home ?? homedir();
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'fwd');
}

/** True when every socket name fits under `dir` (unix socket paths are short). */
export function socketsFit(dir: string): boolean {
  return dir.length + 1 + MAX_NAME_LENGTH + SOCKET_SUFFIX.length <= MAX_SOCKET_PATH;
}

/**
 * The control-socket directory, chosen from the environment alone so that every fwd of this user
 * agrees: $XDG_RUNTIME_DIR/fwd when $XDG_RUNTIME_DIR is usable (`runtimeOk`), else
 * <state>/run-<short hostname> (the host name keeps machines that share a home directory apart:
 * one's socket is dead to the other and would look stale), else <tmp>/fwd-<uid> when that path is
 * too long for a socket.
 */
export function runDirFor(ctx: DirContext, runtimeOk: boolean): string {
  const xdg = ctx.env.XDG_RUNTIME_DIR;
  if (runtimeOk && xdg) {
    const dir = join(xdg, 'fwd');
    if (socketsFit(dir)) return dir;
  }
  const short =
    (ctx.host ?? hostname())
      .split('.')[0]
      ?.replace(/[^A-Za-z0-9-]/g, '-')
      .slice(0, 24) || 'host';
  const inState = join(stateDirFor(ctx), `run-${short}`);
  if (socketsFit(inState)) return inState;
  return join(ctx.tmp ?? tmpdir(), `fwd-${ctx.uid}`);
}

/** Why `path` is not a private directory of `uid`, or undefined when it is one. */
export async function privateDirProblem(path: string, uid: number): Promise<string | undefined> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `${path} does not exist`
      : (err as Error).message;
  }
  if (info.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!info.isDirectory()) return `${path} is not a directory`;
  if (info.uid !== uid) return `${path} belongs to uid ${info.uid}, not to you (uid ${uid})`;
  if ((info.mode & 0o077) !== 0)
    return `${path} is open to other users (mode ${(info.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * Creates `path` (mode 0700) or checks the existing one: a directory, not a link, owned by `uid`,
 * closed to others. One of ours with a loose mode is tightened; anything else is refused, since
 * whoever controls the directory could stand in for a control socket.
 */
export async function ensurePrivateDir(path: string, uid: number): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  let problem = await privateDirProblem(path, uid);
  if (problem?.includes('open to other users')) {
    await chmod(path, 0o700);
    problem = await privateDirProblem(path, uid);
  }
  if (problem) throw new Error(`refusing to use ${path} for fwd's control sockets or logs: ${problem}`);
}

/** The directories of background fwds, created and checked; throws with a message when unsafe. */
export async function fwdDirs(env: Record<string, string | undefined>): Promise<FwdDirs> {
  const uid = process.getuid?.();
  if (uid === undefined) throw new Error('running in the background needs a unix-like system (no uid here)');
  const ctx: DirContext = { env, uid };
  const xdg = env.XDG_RUNTIME_DIR;
  // The XDG spec requires the runtime dir to be the user's and 0700; one that is not is ignored.
  const runtimeOk = xdg !== undefined && isAbsolute(xdg) && (await privateDirProblem(xdg, uid)) === undefined;
  const dirs = { state: stateDirFor(ctx), run: runDirFor(ctx, runtimeOk) };
  await ensurePrivateDir(dirs.state, uid);
  await ensurePrivateDir(dirs.run, uid);
  return dirs;
}

/** The control socket of daemon `name`. */
export function socketPath(dirs: FwdDirs, name: string): string {
  return join(dirs.run, `${name}${SOCKET_SUFFIX}`);
}

/** The NDJSON log of daemon `name`. */
export function logPath(dirs: FwdDirs, name: string): string {
  return join(dirs.state, `${name}.log`);
}

/** The daemon name of a socket file name, or undefined for other files. */
export function nameOfSocket(file: string): string | undefined {
  return file.endsWith(SOCKET_SUFFIX) ? file.slice(0, -SOCKET_SUFFIX.length) : undefined;
}

/** fwdDirs for a command: on a bad or foreign directory, say why and give the exit code. */
export async function fwdDirsOrExit(io: CliIO): Promise<FwdDirs | number> {
  try {
    return await fwdDirs(io.env);
  } catch (err) {
    complain(io, (err as Error).message);
    return EXIT.failure;
  }
}
