import type { HostKeyMode } from '@fwd/core';
import Type, { type Static, type TSchema } from 'typebox';
import { DURATION_HINT, DURATION_PATTERN } from './duration.js';
import { SIZE_HINT, SIZE_PATTERN } from './size.js';

/** `defaults:` as written in tunnels.yaml. */
export interface DefaultsEntry {
  keepalive?: string;
  reconnect?: { initial?: string; max?: string };
  hostKeys?: HostKeyMode;
  bind?: string;
  window?: string;
  hold?: string;
}

/**
 * `transport:` of a host: plain TCP (the default), SSH carried over a websocket relay, or over a
 * command's stdin/stdout (OpenSSH's ProxyCommand).
 */
export type TransportEntry =
  | { type: 'tcp' }
  | {
      type: 'websocket';
      url: string;
      token?: string;
      headers?: Record<string, string>;
      ca?: string;
      rejectUnauthorized?: boolean;
    }
  | { type: 'command'; command: string };

/** One entry of `hosts:`. */
export interface HostEntry {
  local?: boolean;
  host?: string;
  user?: string;
  port?: number;
  identityFile?: string | string[];
  certificateFile?: string | string[];
  jump?: string | string[];
  transport?: TransportEntry;
  window?: string;
}

/** `slurm.submit:` — an sbatch script or a `--wrap` command. */
export interface SlurmSubmitEntry {
  script?: string;
  wrap?: string;
  args?: string[];
  cancelOnExit?: boolean;
}

/** `slurm:` of a tunnel: attach to a job by id or name, or submit one. */
export interface SlurmEntry {
  job?: number | string;
  name?: string;
  submit?: SlurmSubmitEntry;
  timeout?: string;
  urlFromOutput?: boolean;
  warnBefore?: string[];
}

/** `ready:` — when a tunnel counts as up. */
export type ReadyEntry = { http: string } | { tcp: true };

/** One entry of `tunnels:`. */
export interface TunnelEntry {
  host: string;
  local?: string | string[];
  remote?: string | string[];
  dynamic?: number | string | (number | string)[];
  slurm?: SlurmEntry;
  ready?: ReadyEntry;
  via?: 'login' | 'node';
  hold?: string;
  open?: boolean;
}

/** A whole tunnels.yaml, as written (before defaults, parsing and cross-checks). */
export interface TunnelsFile {
  version: 1;
  defaults?: DefaultsEntry;
  hosts?: Record<string, HostEntry>;
  tunnels: Record<string, TunnelEntry>;
}

/** Names of hosts and tunnels. */
export const NAME_PATTERN: string = '^[a-z0-9-]+$';

const duration = (description: string) =>
  Type.String({
    description,
    pattern: DURATION_PATTERN,
    patternErrorMessage: DURATION_HINT,
    errorMessage: DURATION_HINT,
  });
const windowSize = Type.Optional(
  Type.String({
    description:
      'largest receive window of one forwarded connection (e.g. 64M): it grows from 2M with the ' +
      "path's bandwidth × round trip up to this; 2M = OpenSSH's fixed window. Default 32M",
    pattern: SIZE_PATTERN,
    patternErrorMessage: SIZE_HINT,
    errorMessage: SIZE_HINT,
  }),
);
const forwards = (flag: string, example: string) => {
  const hint = `expected an OpenSSH ${flag} forward like ${example}, or a list of them`;
  return Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, errorMessage: hint })], {
    description: `OpenSSH ${flag} syntax, one string or a list`,
    errorMessage: hint,
  });
};
const named = <T extends TSchema>(entry: T, what: string) =>
  Type.Record(Type.String({ pattern: NAME_PATTERN }), entry, {
    additionalProperties: false,
    description: `${what} by name (lowercase letters, digits and -)`,
  });
const strict = { additionalProperties: false } as const;
const stringOrList = (description: string) =>
  Type.Union([Type.String(), Type.Array(Type.String())], { description });

const defaults = Type.Object(
  {
    keepalive: Type.Optional(
      duration('SSH keepalive interval; 3 missed replies mean the connection is dead'),
    ),
    hold: Type.Optional(
      duration(
        'how long a connection made before its tunnel is ready (connecting, job pending, app starting) ' +
          'waits for it before it is closed; default 30s, or slurm.timeout for a Slurm tunnel; at most 10m',
      ),
    ),
    reconnect: Type.Optional(
      Type.Object(
        {
          initial: Type.Optional(duration('first retry delay')),
          max: Type.Optional(duration('longest retry delay')),
        },
        { ...strict, description: 'exponential backoff with jitter' },
      ),
    ),
    hostKeys: Type.Optional(
      Type.Union([Type.Literal('strict'), Type.Literal('accept-new')], {
        errorMessage: 'expected strict or accept-new',
      }),
    ),
    bind: Type.Optional(Type.String({ description: 'default local bind address (127.0.0.1)' })),
    window: windowSize,
  },
  strict,
);

const transport = Type.Union(
  [
    Type.Object({ type: Type.Literal('tcp') }, strict),
    Type.Object(
      {
        type: Type.Literal('websocket'),
        url: Type.String({ pattern: '^wss?://', patternErrorMessage: 'expected a ws:// or wss:// URL' }),
        token: Type.Optional(
          Type.String({ description: 'bearer token for the relay; write it as an environment reference' }),
        ),
        headers: Type.Optional(Type.Record(Type.String(), Type.String())),
        ca: Type.Optional(
          Type.String({ description: 'PEM file of the CA that signed the relay certificate' }),
        ),
        rejectUnauthorized: Type.Optional(Type.Boolean()),
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal('command'),
        command: Type.String({
          pattern: '\\S',
          patternErrorMessage: 'expected a command',
          description:
            "run like OpenSSH's ProxyCommand: SSH goes over its stdin/stdout; %h %p %r %n %% are expanded " +
            '(e.g. "cloudflared access ssh --hostname %h")',
        }),
      },
      strict,
    ),
  ],
  { description: 'how to reach the SSH server; default is TCP to host:port' },
);

const host = Type.Object(
  {
    local: Type.Optional(
      Type.Boolean({
        description:
          'true: this machine (e.g. fwd running on a Slurm login node). Slurm commands run here as child ' +
          "processes and forwards hop straight into the job's node over SSH (as user:, with identityFile:); " +
          'host:, port:, jump: and transport: do not apply',
      }),
    ),
    host: Type.Optional(Type.String({ description: 'host name or address; else ~/.ssh/config HostName' })),
    user: Type.Optional(Type.String()),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, errorMessage: 'expected a port number 1-65535' }),
    ),
    identityFile: Type.Optional(stringOrList('private key file(s); else ssh-agent, else ~/.ssh defaults')),
    certificateFile: Type.Optional(
      stringOrList(
        'OpenSSH user certificate(s) (CertificateFile), used with the key they certify; else <identity file>-cert.pub',
      ),
    ),
    jump: Type.Optional(stringOrList('ProxyJump: hosts here or in ~/.ssh/config, outermost first')),
    transport: Type.Optional(transport),
    window: windowSize,
  },
  strict,
);

const slurm = Type.Object(
  {
    job: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]+(_[0-9]+)?$' })], {
        errorMessage: 'expected a Slurm job id like 4242',
      }),
    ),
    name: Type.Optional(Type.String({ description: 'newest RUNNING job of mine with this name' })),
    submit: Type.Optional(
      Type.Object(
        {
          script: Type.Optional(
            Type.String({
              description: 'an sbatch script on this machine, relative to this file; sent on stdin',
            }),
          ),
          wrap: Type.Optional(Type.String({ description: 'a command for sbatch --wrap' })),
          args: Type.Optional(
            Type.Array(Type.String(), {
              description: 'extra sbatch options, e.g. [-p, gpu, --time=1:00:00] (not script arguments)',
            }),
          ),
          cancelOnExit: Type.Optional(
            Type.Boolean({ description: 'scancel the job when fwd stops (default true)' }),
          ),
        },
        strict,
      ),
    ),
    timeout: Type.Optional(duration('how long to wait for the job to be RUNNING')),
    urlFromOutput: Type.Optional(
      Type.Boolean({
        description:
          "show the app's URL from the job's output (e.g. Jupyter's ?token= link), pointed at the local port",
      }),
    ),
    warnBefore: Type.Optional(
      Type.Array(duration('a time before the end of the job'), {
        description:
          "warn (a line, an NDJSON notice event, a terminal bell) this long before the job's time limit " +
          'ends it; default [10m, 1m]; [] for no warnings',
      }),
    ),
  },
  strict,
);

const socksPort = Type.Union([Type.Integer(), Type.String()], {
  errorMessage: 'expected a SOCKS port like 1080 or 127.0.0.1:1080',
});

const tunnel = Type.Object(
  {
    host: Type.String({ description: 'a name from hosts:, a Host of ~/.ssh/config, or [user@]host[:port]' }),
    local: Type.Optional(forwards('-L', '8888:localhost:8888')),
    remote: Type.Optional(forwards('-R', '0:localhost:3000')),
    dynamic: Type.Optional(
      Type.Union([Type.Integer(), Type.String(), Type.Array(socksPort, { minItems: 1 })], {
        description: 'OpenSSH -D syntax: [bind_address:]port, or a list',
        errorMessage: 'expected a SOCKS port like 1080 or 127.0.0.1:1080, or a list of them',
      }),
    ),
    slurm: Type.Optional(slurm),
    ready: Type.Optional(
      Type.Union(
        [Type.Object({ http: Type.String() }, strict), Type.Object({ tcp: Type.Literal(true) }, strict)],
        {
          errorMessage: 'expected { http: /path } or { tcp: true }',
        },
      ),
    ),
    via: Type.Optional(
      Type.Union([Type.Literal('login'), Type.Literal('node')], {
        description:
          "where forwards start on the far side. login (default for TCP targets): the host's session opens " +
          'them, so targets are as seen from the login node (8888:{node}:8888). node (needs slurm:; default ' +
          "for unix-socket targets and local hosts): fwd SSHes into the job's node through the host and opens " +
          'them there, so an app bound to 127.0.0.1 or a 0600 socket on the node is reachable by you only ' +
          '(8888:127.0.0.1:8888, 8888:/home/{user}/nb-{job}.sock)',
        errorMessage: 'expected login or node',
      }),
    ),
    hold: Type.Optional(
      duration('like defaults.hold, for this tunnel: how long an early connection waits for it to be ready'),
    ),
    open: Type.Optional(
      Type.Boolean({
        description:
          "open the app's URL (with its token, when fwd knows it) in the default browser once the tunnel is up; " +
          'like fwd up --open for this tunnel only',
      }),
    ),
  },
  strict,
);

const tunnelsFile = Type.Object(
  {
    version: Type.Literal(1, { errorMessage: 'expected version: 1' }),
    defaults: Type.Optional(defaults),
    hosts: Type.Optional(named(host, 'SSH hosts')),
    tunnels: named(tunnel, 'tunnels'),
  },
  { ...strict, title: 'fwd tunnels.yaml' },
);

// Compile-time proof that the hand-written types above (needed for isolatedDeclarations) and the
// schema describe the same thing; a mismatch makes this line a type error.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatchSchema: Same<Static<typeof tunnelsFile>, TunnelsFile> = true;
void typesMatchSchema;

/** The schema object the validator interprets (a plain JSON Schema; see `tunnelsJsonSchema`). */
export const tunnelsFileSchema: TSchema = tunnelsFile;

/**
 * The JSON Schema of tunnels.yaml (draft 2020-12), for editors and `fwd schema`. It is the very
 * object the loader validates with, plus `$schema`.
 *
 * @example
 * // yaml-language-server: $schema=./node_modules/@fwd/cli/schema/tunnels.schema.json
 * JSON.stringify(tunnelsJsonSchema(), null, 2)
 */
export function tunnelsJsonSchema(): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(JSON.parse(JSON.stringify(tunnelsFile)) as object),
  };
}
