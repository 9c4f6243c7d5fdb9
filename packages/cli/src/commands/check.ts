import { formatEndpoint } from '@fwd/core';
import { describePlan, type Plan, planJson } from '../config/index.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { openUrl, webScheme } from '../render/http-urls.js';
import { loadPlanFromFile } from '../runtime/load-plan.js';
import { commandLine, type FlagOptions } from './command-line.js';
import { adviseOnExposure } from './exposure-advice.js';
import { adviseOnPorts, type BindRights, detectBindRights } from './port-advice.js';

/** `fwd check [tunnels.yaml]`: validate and resolve, print the plan, touch no network. */
export async function checkCommand(
  argv: string[],
  io: CliIO,
  rights: BindRights = detectBindRights(),
): Promise<number> {
  const parsed = commandLine('check', argv, io, CHECK_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const file = positionals[0] ?? 'tunnels.yaml';
  const outcome = await loadPlanFromFile(
    file,
    io,
    values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {},
  );
  if ('problems' in outcome) {
    if (values.json) io.stdout.write(`${JSON.stringify({ file, ok: false, problems: outcome.problems })}\n`);
    for (const p of outcome.problems) io.stderr.write(`${p}\n`);
    io.stderr.write(
      `${outcome.problems.length} problem${outcome.problems.length === 1 ? '' : 's'} in ${file}\n`,
    );
    return EXIT.usage;
  }
  // Port advice is a warning here: this may not be the user or machine that runs `fwd up`.
  const advice = adviseOnPorts(outcome.plan, rights);
  const warnings = [
    ...advice.denied,
    ...advice.warnings,
    ...adviseOnExposure(outcome.plan),
    ...hostKeyWarnings(outcome.plan),
  ];
  if (values.json) {
    const json = { file, ok: true, ...planJson(outcome.plan), warnings };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${describePlan(outcome.plan)}\n`);
  for (const line of urlLines(outcome.plan)) io.stdout.write(`${line}\n`);
  for (const message of warnings) complain(io, `warning: ${message}`);
  io.stdout.write(
    `${file}: ok (${plural(outcome.plan.tunnels.length, 'tunnel')}, ${plural(outcome.plan.hosts.length, 'host')})\n`,
  );
  return EXIT.ok;
}

/** Hosts (and jump hops) whose unknown keys would be accepted without being recorded, once each. */
function hostKeyWarnings(plan: Plan): string[] {
  const hops = plan.hosts.flatMap((h) => [...h.jumpChain, h]);
  return [...new Set(hops.flatMap((h) => (h.hostKeyWarning === undefined ? [] : [h.hostKeyWarning])))];
}

/** "open http://127.0.0.1:8888/ once notebook is up" for forwards on a fixed port to a web app. */
function urlLines(plan: Plan): string[] {
  const lines: string[] = [];
  for (const tunnel of plan.tunnels) {
    for (const f of tunnel.forwards) {
      const scheme = webScheme(tunnel, f);
      if (!scheme || f.kind !== 'local') continue;
      const url = openUrl(formatEndpoint(f.bind), scheme);
      if (url) lines.push(`open ${url} once ${tunnel.name} is up`);
    }
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const CHECK_OPTIONS = {
  'ssh-config': { type: 'string', short: 'F' },
  json: { type: 'boolean' },
} as const;

/** fwd check's flags, for shell completion. */
export const CHECK_FLAGS: FlagOptions = CHECK_OPTIONS;
