import { WEB_APP_PORTS } from '../render/http-urls.js';

/** What `fwd init` asks: where, which ports, and how the app is reached there. */
export interface InitAnswers {
  /** A Host of ~/.ssh/config (or a [user@]host[:port] destination). */
  host: string;
  /** Local port → port on the host (or on the job's node); at least one. */
  ports: ReadonlyArray<{ local: number; remote: number }>;
  /** The app runs in a Slurm job: attach to it by id or by name. */
  slurm?: { job: number } | { name: string };
  /** The app listens on this unix socket (absolute path there) instead of the first port. */
  socket?: string;
}

/** How the host was resolved, for the comment above it ("alice@login.hpc.example.edu:22 via bastion"). */
export interface HostSummary {
  readonly where: string;
  readonly fromSshConfig: boolean;
}

/** Tunnel names for the apps people run on these ports; others are `port-N`. */
const APP_NAMES: ReadonlyMap<number, string> = new Map([
  [6006, 'tensorboard'],
  [7860, 'gradio'],
  [8265, 'ray'],
  [8501, 'streamlit'],
  [8787, 'rstudio'],
  [8888, 'jupyter'],
  [8889, 'jupyter'],
]);

/** A line of YAML with its explanation in a column of its own. */
const explained = (code: string, note: string): string => `${code.padEnd(40)}# ${note}`;

/** `# text` lines, indented. */
const comment = (indent: string, ...lines: string[]): string[] => lines.map((l) => `${indent}# ${l}`);

/** A forward's target: the job's node for a Slurm tunnel, else the host's own loopback. */
const targetHost = (answers: InitAnswers): string => (answers.slurm ? '{node}' : 'localhost');

/**
 * The commented tunnels.yaml `fwd init` writes: every line either a setting or an explanation,
 * the optional settings present but commented out, so that the file teaches its own format.
 */
export function tunnelsYaml(answers: InitAnswers, host: HostSummary, header: string): string {
  const lines = [
    ...comment('', header),
    ...comment(
      '',
      '  fwd check FILE      validate it and show the plan (no network)',
      '  fwd up FILE         bring the tunnels up; Ctrl-C stops them',
      '  fwd up -d FILE      the same in the background (fwd ps, fwd logs, fwd down)',
      "Every key: `fwd schema` prints the JSON Schema (editors can use it), fwd's README explains it.",
    ),
    'version: 1',
    '',
    ...comment(
      '',
      'defaults:',
      '  keepalive: 15s                         # SSH keepalive; 3 unanswered = dead, then reconnect',
      '  reconnect: { initial: 250ms, max: 30s }',
      '  hostKeys: strict                       # accept-new records the key of a host met for the first time',
      '  bind: 127.0.0.1                        # local ports are private to this machine',
    ),
    '',
    'tunnels:',
  ];
  const hostLine = `    host: ${answers.host}`;
  // Said once, above the first tunnel.
  let hostComment = comment(
    '    ',
    host.fromSshConfig
      ? `${answers.host} is a Host of ~/.ssh/config: ${host.where}`
      : `${answers.host}: ${host.where}`,
  );
  const used = new Set<string>();
  const nameFor = (port: number): string => {
    const base = APP_NAMES.get(port) ?? `port-${port}`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  };
  const app = (port: number): string => {
    const known = WEB_APP_PORTS.get(port);
    return known ? ` (${known})` : '';
  };
  const where = answers.slurm ? "the job's node" : answers.host;
  const forwardLine = (p: { local: number; remote: number }) =>
    `${p.local}:${targetHost(answers)}:${p.remote}`;

  if (answers.slurm) {
    // One tunnel for the job: its forwards share the job, its node and its lifetime.
    const first = answers.ports[0] as { local: number; remote: number };
    lines.push(`  ${nameFor(first.remote)}:`, ...hostComment, hostLine, ...slurmLines(answers.slurm));
    hostComment = [];
    const forwards = answers.ports.map((p, i) =>
      i === 0 && answers.socket !== undefined ? `${p.local}:${answers.socket}` : forwardLine(p),
    );
    if (answers.socket !== undefined) lines.push(...socketComment(answers.socket, where));
    lines.push(
      ...comment('    ', `{node}: the node the job runs on; 127.0.0.1:PORT here reaches PORT there`),
      forwards.length === 1 ? `    local: ${forwards[0]}` : `    local: [${forwards.join(', ')}]`,
      ...comment('    ', 'ready: { http: / }     # call it up once the app answers (held connections wait)'),
    );
  } else {
    for (const [i, p] of answers.ports.entries()) {
      lines.push(`  ${nameFor(p.remote)}:`, ...hostComment, hostLine);
      hostComment = [];
      if (i === 0 && answers.socket !== undefined) {
        lines.push(...socketComment(answers.socket, where), `    local: ${p.local}:${answers.socket}`);
      } else {
        const note = `127.0.0.1:${p.local} here -> port ${p.remote} on ${where}${app(p.remote)}`;
        lines.push(explained(`    local: ${forwardLine(p)}`, note));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function slurmLines(slurm: NonNullable<InitAnswers['slurm']>): string[] {
  const attach =
    'job' in slurm
      ? explained(`      job: ${slurm.job}`, 'this job (or name: NAME, your newest RUNNING job of that name)')
      : explained(`      name: ${slurm.name}`, 'your newest RUNNING job of this name (or job: ID)');
  return [
    '    slurm:',
    attach,
    ...comment(
      '      ',
      'submit: { script: jupyter.sbatch }    # or submit one (relative to this file); scancel on exit',
    ),
    explained('      timeout: 10m', 'how long to wait for the job to be RUNNING'),
  ];
}

function socketComment(socket: string, where: string): string[] {
  return comment(
    '    ',
    `The app listens on the unix socket ${socket} on ${where}`,
    `(jupyter lab --sock ${socket}): mode 0600, only you can open it,`,
    'where a TCP port there is open to every user of that machine.',
  );
}
