import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

/**
 * Just enough of a Jupyter client to prove a notebook server works end to end through a tunnel:
 * start a kernel over the REST API, run code over the kernel's websocket (Jupyter messaging
 * protocol 5.3, JSON frames), read what it printed, and shut the kernel down.
 */
export interface JupyterServer {
  /** http://127.0.0.1:PORT (no path), where the tunnel listens. */
  readonly origin: string;
  readonly token: string;
}

/** The server a tokenised URL (`http://127.0.0.1:PORT/lab?token=abc`) points at. */
export function jupyterAt(url: string): JupyterServer {
  const parsed = new URL(url);
  const token = parsed.searchParams.get('token');
  if (!token) throw new Error(`no token in ${url}`);
  return { origin: parsed.origin, token };
}

async function api(server: JupyterServer, method: string, path: string): Promise<unknown> {
  const response = await fetch(`${server.origin}${path}`, {
    method,
    headers: { authorization: `token ${server.token}` },
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

/** POST /api/kernels: a new kernel of the default kind; its id. */
export async function startKernel(server: JupyterServer): Promise<string> {
  const kernel = (await api(server, 'POST', '/api/kernels')) as { id: string };
  return kernel.id;
}

export async function stopKernel(server: JupyterServer, id: string): Promise<void> {
  await api(server, 'DELETE', `/api/kernels/${id}`);
}

interface KernelMessage {
  channel: string;
  header: { msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

/**
 * Sends `code` as an execute_request on the kernel's websocket and resolves with everything the
 * kernel wrote to stdout for it, once the kernel reports idle; rejects on an error reply.
 */
export function runCode(
  server: JupyterServer,
  kernel: string,
  code: string,
  timeoutMs = 30_000,
): Promise<string> {
  const wsUrl = `${server.origin.replace(/^http/, 'ws')}/api/kernels/${kernel}/channels?token=${server.token}`;
  const socket = new WebSocket(wsUrl);
  const msgId = randomUUID();
  return new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => finish(new Error(`no reply to execute_request in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(stdout);
    };
    socket.once('error', (err) => finish(err));
    socket.once('open', () => {
      socket.send(
        JSON.stringify({
          header: {
            msg_id: msgId,
            msg_type: 'execute_request',
            username: 'fwd-test',
            session: randomUUID(),
            date: new Date().toISOString(),
            version: '5.3',
          },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
          buffers: [],
          channel: 'shell',
        }),
      );
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as KernelMessage;
      if (message.parent_header.msg_id !== msgId) return;
      const type = message.header.msg_type;
      if (type === 'stream' && message.content.name === 'stdout') stdout += String(message.content.text);
      else if (type === 'error') finish(new Error(`kernel error: ${String(message.content.evalue)}`));
      else if (type === 'status' && message.content.execution_state === 'idle') finish();
    });
  });
}
