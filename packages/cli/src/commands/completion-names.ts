import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { CliIO } from '../io.js';

/**
 * The names of one kind that `fwd __complete` prints (see completion.ts). Each kind imports only
 * what it needs: this runs at every TAB, and validating a file or resolving ssh config would
 * load most of fwd.
 */
export async function completionNames(kind: string, file: string, io: CliIO): Promise<string[]> {
  switch (kind) {
    case 'tunnels':
      return tunnelNames(resolve(io.cwd, file));
    case 'hosts': {
      const { sshHostAliases } = await import('../config/ssh-host-aliases.js');
      return sshHostAliases({ homeDir: io.env.HOME ?? homedir(), user: userInfo().username });
    }
    case 'daemons': {
      const [{ readdir }, { fwdDirs, nameOfSocket }] = await Promise.all([
        import('node:fs/promises'),
        import('../daemon/daemon-dirs.js'),
      ]);
      // The socket files are the names: no daemon is asked anything.
      const dirs = await fwdDirs(io.env);
      return (await readdir(dirs.run))
        .map(nameOfSocket)
        .filter((n): n is string => n !== undefined)
        .sort();
    }
    case 'daemon-tunnels': {
      const [{ fwdDirs }, { listDaemons }] = await Promise.all([
        import('../daemon/daemon-dirs.js'),
        import('../daemon/daemon-registry.js'),
      ]);
      const { daemons } = await listDaemons(await fwdDirs(io.env));
      return daemons.flatMap((d) =>
        'status' in d ? d.status.tunnels.map((t) => `${d.name}/${t.name}`) : [],
      );
    }
    default:
      return [];
  }
}

/** The keys under `tunnels:` of a file, valid or not: completion helps while it is being written. */
async function tunnelNames(path: string): Promise<string[]> {
  const [{ readConfigFile }, { parseYamlSource }] = await Promise.all([
    import('../config/config-file.js'),
    import('../config/yaml-source.js'),
  ]);
  const read = await readConfigFile(path, path);
  if ('problems' in read) return [];
  const data = parseYamlSource(read.text, path).toData() as { tunnels?: unknown } | null;
  const tunnels = data?.tunnels;
  return typeof tunnels === 'object' && tunnels !== null && !Array.isArray(tunnels)
    ? Object.keys(tunnels)
    : [];
}
