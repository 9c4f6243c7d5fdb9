import { execFileSync } from 'node:child_process';

/** Docker-backed tests skip without a daemon, unless FWD_REQUIRE_DOCKER=1 (CI): then they fail. */
export const dockerRequired: boolean = process.env.FWD_REQUIRE_DOCKER === '1';

function probe(): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', 'fwd/sshd'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** True when the daemon answers and the project's images are built (docker/setup.sh). */
export const dockerAvailable: boolean = probe();

/** For `describe.skipIf(skipWithoutDocker)`: never skips when Docker is required. */
export const skipWithoutDocker: boolean = !dockerAvailable && !dockerRequired;
