import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type ConfigText, readConfigFile } from '../config/config-file.js';
import {
  buildPlan,
  type ConfigProblem,
  formatProblem,
  loadConfig,
  type Plan,
  type SshConfigOptions,
  sshConfigHostNames,
  type TunnelsConfig,
} from '../config/index.js';
import { expandTilde } from '../config/ssh-config-include.js';
import type { CliIO } from '../io.js';

/** ~/.ssh/config settings for this process: $HOME and the local user, as OpenSSH uses them. */
export function sshOptionsFor(io: CliIO, configPath?: string): SshConfigOptions {
  const options: SshConfigOptions = {
    homeDir: io.env.HOME ?? homedir(),
    user: userInfo().username,
    env: io.env,
  };
  if (configPath !== undefined) options.configPath = resolve(io.cwd, configPath);
  return options;
}

export type PlanOutcome = { plan: Plan } | { problems: string[] };

/**
 * Reads tunnels.yaml, validates it and resolves every host through ~/.ssh/config. Touches no
 * network. Problems come back formatted (`file:line:col  path: message`), all of them at once.
 */
export async function loadPlanFromFile(
  file: string,
  io: CliIO,
  options: { only?: string[]; sshConfig?: string } = {},
): Promise<PlanOutcome> {
  let read: ConfigText;
  try {
    read = await readConfigFile(resolve(io.cwd, file), file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    const hint =
      code === 'ENOENT' && file === 'tunnels.yaml' ? ' (give a file: fwd up path/to/tunnels.yaml)' : '';
    return { problems: [`${file}: ${why}${hint}`] };
  }
  if ('problems' in read) return { problems: read.problems.map(formatProblem) };
  return planFromText(read.text, file, io, options);
}

/**
 * What `loadPlanFromFile` does once it has the text: the one validation of `fwd check`, `fwd up`
 * and a file `fwd init` is about to write. `file` names it in messages and anchors relative paths.
 */
export function planFromText(
  text: string,
  file: string,
  io: CliIO,
  options: { only?: string[]; sshConfig?: string } = {},
): PlanOutcome {
  const ssh = sshOptionsFor(io, options.sshConfig);
  const loaded = loadConfig(text, file, io.env, { knownSshHosts: sshConfigHostNames(ssh) });
  if (!loaded.config) return { problems: loaded.problems.map(formatProblem) };
  let config = loaded.config;
  if (options.only) {
    const names = new Set(config.tunnels.map((t) => t.name));
    const unknown = options.only.filter((n) => !names.has(n));
    if (unknown.length > 0) {
      return { problems: [`--only: no tunnel named ${unknown.map((n) => `"${n}"`).join(', ')} in ${file}`] };
    }
    const wanted = new Set(options.only);
    config = { ...config, tunnels: config.tunnels.filter((t) => wanted.has(t.name)) };
  }
  const scripts = resolveSbatchScripts(config, dirname(resolve(io.cwd, file)), ssh.homeDir);
  if (scripts.problems.length > 0) return { problems: scripts.problems.map(formatProblem) };
  config = scripts.config;
  const planned = buildPlan(config, ssh);
  if (!planned.plan) return { problems: planned.problems.map(formatProblem) };
  return { plan: planned.plan };
}

export type { ConfigProblem };

/**
 * sbatch scripts are files on this machine, named relative to tunnels.yaml (as docker compose
 * does), so `fwd up` works from any directory; a missing one is a config problem, found by check.
 */
function resolveSbatchScripts(
  config: TunnelsConfig,
  baseDir: string,
  homeDir: string,
): { config: TunnelsConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const tunnels = config.tunnels.map((t) => {
    const slurm = t.slurm;
    if (slurm?.mode !== 'submit' || !('script' in slurm.run)) return t;
    const path = resolve(baseDir, expandTilde(slurm.run.script, homeDir));
    if (!existsSync(path)) {
      problems.push({
        file: config.file,
        ...t.position,
        path: `tunnels.${t.name}.slurm.submit.script`,
        message: `no such file ${path} (scripts are relative to ${config.file})`,
      });
    }
    return { ...t, slurm: { ...slurm, run: { script: path } } };
  });
  return { config: { ...config, tunnels }, problems };
}
