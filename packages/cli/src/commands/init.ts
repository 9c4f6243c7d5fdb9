import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseDestination, resolveSshHost, sshConfigHostNames } from '../config/index.js';
import { sshHostAliases } from '../config/ssh-host-aliases.js';
import { type CliIO, complain, EXIT, isTTY } from '../io.js';
import { planFromText, sshOptionsFor } from '../runtime/load-plan.js';
import { version } from '../version.js';
import { commandLine, type FlagOptions } from './command-line.js';
import { type HostSummary, type InitAnswers, tunnelsYaml } from './init-template.js';

/** What a question on the terminal needs; injected so that tests can answer. */
export type Ask = (question: string) => Promise<string>;

/**
 * `fwd init [HOST] [--port P[:R],..] [--slurm JOB|NAME] [--socket PATH] [-o FILE] [--force]`:
 * writes a commented tunnels.yaml for a Host of ~/.ssh/config. On a terminal it asks for what the
 * flags did not say; otherwise the flags and defaults (port 8888, no Slurm, no socket) decide.
 * The text is validated as `fwd check` would before it is written, and an existing file is only
 * replaced with --force.
 */
export async function initCommand(argv: string[], io: CliIO, ask?: Ask): Promise<number> {
  const parsed = commandLine('init', argv, io, INIT_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    complain(io, `init takes one host, got ${positionals.length}; see fwd init --help`);
    return EXIT.usage;
  }
  const file = values.output ?? 'tunnels.yaml';
  const ssh = sshOptionsFor(io, values['ssh-config']);
  const aliases = sshHostAliases(ssh);
  const interactive = ask ?? (isTTY(io.stdin) && isTTY(io.stderr) ? terminalAsk(io) : undefined);

  let answers: InitAnswers;
  try {
    answers = await collectAnswers(
      { host: positionals[0], port: values.port, slurm: values.slurm, socket: values.socket },
      aliases,
      interactive,
    );
  } catch (err) {
    if (!(err instanceof InitUsageError)) throw err;
    complain(io, err.message);
    return EXIT.usage;
  }

  const host = summarize(answers.host, ssh);
  const text = tunnelsYaml(
    answers,
    host,
    `fwd tunnels for ${answers.host}, written by fwd init (fwd ${version()}).`,
  );
  // The same validation as `fwd check FILE`, on the text about to be written.
  const checked = planFromText(
    text,
    file,
    io,
    values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {},
  );
  if ('problems' in checked) {
    for (const p of checked.problems) io.stderr.write(`${p}\n`);
    complain(io, `nothing written: ${file} would not be valid`);
    return EXIT.usage;
  }
  const path = resolve(io.cwd, file);
  const written = await writeNew(path, text, values.force === true);
  if (written !== 'ok') {
    complain(io, `${file} exists; fwd init --force replaces it (or -o FILE writes another)`);
    return EXIT.failure;
  }
  const tunnels = checked.plan.tunnels.length;
  io.stdout.write(
    `wrote ${file}: ${tunnels} tunnel${tunnels === 1 ? '' : 's'} to ${answers.host} (${host.where})\n` +
      `next: fwd check ${file}   then   fwd up ${file}\n`,
  );
  return EXIT.ok;
}

/** Where `host` leads, as ~/.ssh/config resolves it (a config ssh refuses is reported by the check). */
function summarize(name: string, ssh: ReturnType<typeof sshOptionsFor>): HostSummary {
  // alice@login:2222 is a destination, like ssh's; a bare name may be a Host of ~/.ssh/config.
  const destination = /[@:]/.test(name) ? parseDestination(name) : undefined;
  const fromSshConfig = destination === undefined && sshConfigHostNames(ssh)(name);
  try {
    const resolved = resolveSshHost(destination?.host ?? name, ssh);
    const jumps = resolved.proxyJump.map((j) => j.host).join(', ');
    const user = destination?.user ?? resolved.user;
    const port = destination?.port ?? resolved.port;
    return { where: `${user}@${resolved.hostName}:${port}${jumps ? ` via ${jumps}` : ''}`, fromSshConfig };
  } catch {
    return { where: 'see the problem below', fromSshConfig };
  }
}

const INIT_OPTIONS = {
  port: { type: 'string', short: 'p' },
  slurm: { type: 'string' },
  socket: { type: 'string' },
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean' },
  'ssh-config': { type: 'string', short: 'F' },
} as const;

/** fwd init's flags, for shell completion. */
export const INIT_FLAGS: FlagOptions = INIT_OPTIONS;

/** A wrong answer or flag: said once, exit 2. */
class InitUsageError extends Error {}

interface Given {
  host: string | undefined;
  port: string | undefined;
  slurm: string | undefined;
  socket: string | undefined;
}

/** The flags, completed by questions where a terminal can answer them. */
async function collectAnswers(given: Given, aliases: string[], ask: Ask | undefined): Promise<InitAnswers> {
  let host = given.host;
  if (host === undefined) {
    const known =
      aliases.length > 0 ? `Hosts in ~/.ssh/config: ${aliases.join(', ')}` : 'no Host in ~/.ssh/config';
    if (!ask) throw new InitUsageError(`which host? fwd init HOST (${known})`);
    const fallback = aliases[0];
    const answer = (await ask(`Host to forward from (${known})${fallback ? ` [${fallback}]` : ''}: `)).trim();
    host = answer || fallback;
    if (!host) throw new InitUsageError('no host given');
  }
  let portText = given.port;
  if (portText === undefined && ask)
    portText = await ask(`Ports of the app on ${host} (e.g. 8888 6006, or LOCAL:REMOTE) [8888]: `);
  const ports = parsePorts(portText?.trim() || '8888');
  let slurm = given.slurm;
  if (slurm === undefined && ask)
    slurm = await ask('Does it run in a Slurm job? Its id or name (empty: no): ');
  let socket = given.socket;
  if (socket === undefined && ask)
    socket = await ask(`Does it listen on a unix socket? Its absolute path on ${host} (empty: no): `);
  const answers: InitAnswers = { host, ports };
  const job = slurm?.trim();
  if (job) answers.slurm = /^\d+$/.test(job) ? { job: Number(job) } : { name: job };
  const path = socket?.trim();
  if (path) {
    if (!path.startsWith('/'))
      throw new InitUsageError(`the socket path must be absolute on ${host}, got "${path}"`);
    answers.socket = path;
  }
  return answers;
}

/** "8888 6006", "8888,6006", "9999:8888" → local and remote ports. */
export function parsePorts(text: string): Array<{ local: number; remote: number }> {
  const port = (s: string): number => {
    const n = /^\d{1,5}$/.test(s) ? Number(s) : Number.NaN;
    if (!(n >= 1 && n <= 65535))
      throw new InitUsageError(`bad port "${s}": expected 1-65535, or LOCAL:REMOTE`);
    return n;
  };
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => {
      const [local, remote, extra] = item.split(':');
      if (extra !== undefined || local === undefined)
        throw new InitUsageError(`bad port "${item}": expected PORT or LOCAL:REMOTE`);
      return { local: port(local), remote: port(remote ?? local) };
    });
}

function terminalAsk(io: CliIO): Ask {
  return async (question) => {
    const rl = createInterface({
      input: io.stdin as NodeJS.ReadableStream,
      output: io.stderr as NodeJS.WritableStream,
    });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}

/**
 * Writes `text` to `path` as a whole: into a temp file beside it, then linked or renamed into
 * place, so that a reader never sees half a file. Without `replace`, an existing file is kept
 * (the exclusive create of the temp name and a hard link refuse to clobber).
 */
async function writeNew(path: string, text: string, replace: boolean): Promise<'ok' | 'exists'> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  {
    await using handle = await open(temp, 'wx', 0o644);
    await handle.writeFile(text);
    await handle.sync();
  }
  try {
    if (replace) await rename(temp, path);
    else await link(temp, path);
    return 'ok';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
