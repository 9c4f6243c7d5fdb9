// npx tsx scripts/live-table-svg.ts: docs/live-table.svg, the README's picture of the live table.
// A real run: the bundled OpenSSH container, `fwd up examples/demo.yaml` in a tmux pane (120×12),
// a little traffic through two tunnels, then the pane with its colours, drawn as SVG text.
// Needs Docker with the fwd/sshd image (docker/setup.sh), tmux, and `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyPair } from '../test/support/keys.js';

const repo = new URL('..', import.meta.url).pathname;
const out = join(repo, 'docs', 'live-table.svg');
const COLUMNS = 120;
const ROWS = 12;

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const home = mkdtempSync(join(tmpdir(), 'fwd-picture-'));
const server = `fwd-picture-${process.pid}`;
const tmux = (...args: string[]): string => run('tmux', '-L', server, ...args);
let container = '';

function cleanup(): void {
  try {
    tmux('kill-server');
  } catch {}
  if (container) {
    try {
      run('docker', 'rm', '-f', container);
    } catch {}
  }
  rmSync(home, { recursive: true, force: true });
}

/** Polls the pane until `pattern` shows; the pane has no event to wait on. */
async function paneShows(pattern: RegExp, what: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pane = tmux('capture-pane', '-p');
    if (pattern.test(pane)) return pane;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${pane}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `payload` to host:port or a unix path and reads until the peer ends. */
function exchange(target: { port: number } | { path: string }, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, '127.0.0.1');
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.end(payload);
  });
}

/** A SOCKS5 CONNECT through the proxy at `port` to `host:target`; resolves with the open socket. */
function socksConnect(port: number, host: string, target: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const request = Buffer.from([5, 1, 0, 3, host.length, ...Buffer.from(host), target >> 8, target & 255]);
    let step = 0;
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      if (step++ === 0) return void socket.write(request); // greeting answered: no auth
      if (c[1] !== 0) return reject(new Error(`SOCKS CONNECT refused (${c[1]})`));
      socket.removeAllListeners('data');
      resolve(socket);
    });
    socket.write(Buffer.from([5, 1, 0]));
  });
}

// --- ANSI (tmux capture-pane -e) to SVG -------------------------------------------------------

const PALETTE: Record<number, string> = {
  31: '#f7768e',
  32: '#9ece6a',
  33: '#e0af68',
  34: '#7aa2f7',
  35: '#bb9af7',
  36: '#7dcfff',
  90: '#737aa2',
};
const FOREGROUND = '#c0caf5';
const BACKGROUND = '#1a1b26';
const CHAR_W = 8.4;
const LINE_H = 19;
const PAD = 16;
const TITLE_H = 28;

// SGR escapes (colour, bold); built from the character code, as a control character in a literal regex is a lint error.
const ESC = String.fromCharCode(27);
const SGR_SPLIT = new RegExp(`(${ESC}\\[[0-9;]*m)`);
const SGR_ONE = new RegExp(`^${ESC}\\[([0-9;]*)m$`);
const SGR_ALL = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Run {
  column: number;
  text: string;
  color: string;
  bold: boolean;
}

/**
 * Splits a line with SGR codes into words, each placed at its own column: whatever monospace
 * font the viewer has (and a wider fallback glyph for → or ↑), the table's columns stay aligned.
 */
function runsOf(line: string): Run[] {
  const runs: Run[] = [];
  let color = FOREGROUND;
  let bold = false;
  let column = 0;
  for (const part of line.split(SGR_SPLIT)) {
    const sgr = SGR_ONE.exec(part);
    if (sgr) {
      for (const code of (sgr[1] || '0').split(';').map(Number)) {
        if (code === 0) {
          color = FOREGROUND;
          bold = false;
        } else if (code === 1) bold = true;
        else if (code === 22) bold = false;
        else if (code === 39) color = FOREGROUND;
        else if (PALETTE[code]) color = PALETTE[code];
      }
      continue;
    }
    for (const piece of part.match(/ +|[\x21-\x7e]+|[^\x20-\x7e]/g) ?? []) {
      if (piece.trim() !== '') runs.push({ column, text: piece, color, bold });
      column += [...piece].length;
    }
  }
  return runs;
}

function svgOf(lines: string[]): string {
  const width = Math.ceil(PAD * 2 + COLUMNS * CHAR_W);
  const height = TITLE_H + PAD * 2 + lines.length * LINE_H;
  const text = lines.flatMap((line, row) =>
    runsOf(line).map((r) => {
      const x = (PAD + r.column * CHAR_W).toFixed(1);
      const y = TITLE_H + PAD + (row + 1) * LINE_H - 5;
      const weight = r.bold ? ' font-weight="bold"' : '';
      return `  <text x="${x}" y="${y}" fill="${r.color}"${weight}>${escapeXml(r.text)}</text>`;
    }),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="fwd up: the live status table">`,
    `  <rect width="${width}" height="${height}" rx="8" fill="${BACKGROUND}"/>`,
    `  <circle cx="20" cy="14" r="5" fill="#f7768e"/><circle cx="38" cy="14" r="5" fill="#e0af68"/><circle cx="56" cy="14" r="5" fill="#9ece6a"/>`,
    `  <g font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="14">`,
    ...text,
    '  </g>',
    '</svg>',
    '',
  ].join('\n');
}

// --- the run ---------------------------------------------------------------------------------

try {
  const key = newKeyPair();
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'id_ed25519'), key.privateKey, { mode: 0o600 });
  container = run(
    'docker',
    'run',
    '-d',
    '--rm',
    '-p',
    '127.0.0.1::22',
    '-e',
    `AUTHORIZED_KEYS=${key.publicKey}`,
    'fwd/sshd',
  );
  // The image logs "fwd-sshd ready" once sshd and its loopback-only targets listen.
  const logs = Date.now() + 20_000;
  while (!run('docker', 'logs', container).includes('fwd-sshd ready')) {
    if (Date.now() > logs) throw new Error('the sshd container did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const port = run('docker', 'port', container, '22').split(':').pop() ?? '';
  const hostKey = run('docker', 'exec', container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub').split(' ');
  writeFileSync(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${hostKey[0]} ${hostKey[1]}\n`);
  writeFileSync(
    join(home, '.ssh', 'config'),
    `Host demo\n  HostName 127.0.0.1\n  Port ${port}\n  User alice\n`,
  );
  // `fwd` on the PATH, as an installed one would be.
  mkdirSync(join(home, 'bin'));
  symlinkSync(join(repo, 'packages/cli/dist/main.js'), join(home, 'bin', 'fwd'));

  tmux(
    'new-session',
    '-d',
    '-x',
    String(COLUMNS),
    '-y',
    String(ROWS),
    '-c',
    repo,
    '-e',
    `HOME=${home}`,
    // tmux keeps its own PATH for the pane: pass ours through env(1).
    `env PATH=${join(home, 'bin')}:${process.env.PATH ?? ''} bash --norc --noprofile`,
  );
  tmux('send-keys', "PS1='$ '; clear", 'Enter');
  await paneShows(/^\$ ?$/m, 'the prompt');
  tmux('send-keys', 'fwd up examples/demo.yaml', 'Enter');
  const pane = await paneShows(/socks +up/, 'every tunnel up');
  const notebook = Number(/notebook +up +127\.0\.0\.1:(\d+)/.exec(pane)?.[1]);
  const socket = /private-socket +up +127\.0\.0\.1:(\d+)/.exec(pane)?.[1];
  const socks = Number(/socks +up +127\.0\.0\.1:(\d+)/.exec(pane)?.[1]);
  for (const path of ['/api', '/api/kernels', '/lab']) {
    await exchange({ port: notebook }, `GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
  }
  await exchange({ port: Number(socket) }, 'x'.repeat(48 * 1024));
  // A connection left open, as a browser tab keeps one: the CONN column counts it.
  const proxied = await socksConnect(socks, 'localhost', 7001);
  proxied.write('y'.repeat(3 * 1024));
  await paneShows(/private-socket +up .* 48\.0 KiB +48\.0 KiB/, 'the byte counts');
  await paneShows(/socks +up .* 1 +3\.\d KiB +3\.0 KiB/, 'the open SOCKS connection');
  const lines = tmux('capture-pane', '-p', '-e').split('\n');
  while (lines.length > 0 && lines.at(-1)?.replace(SGR_ALL, '').trim() === '') lines.pop();
  writeFileSync(out, svgOf(lines));
  console.log(`wrote ${out}:\n${tmux('capture-pane', '-p')}`);
  proxied.destroy();
  tmux('send-keys', 'C-c');
} finally {
  cleanup();
}
