import WebSocket from 'ws';

/** The environment that makes a node child listen for a debugger on a free loopback port. */
export const INSPECT_ENV = { NODE_OPTIONS: '--inspect=127.0.0.1:0' } as const;

/** Node's "Debugger listening on ws://…" lines, which INSPECT_ENV adds to a child's stderr. */
export function withoutInspectorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^(Debugger (listening|attached|ending)|For help, see: https:\/\/nodejs\.org)/.test(l))
    .join('\n');
}

/**
 * The V8 heap a process really holds: a full garbage collection through the inspector, then
 * `process.memoryUsage().heapUsed`. Unlike RSS it does not depend on when the last GC ran (on a
 * loaded machine that moved RSS by up to ±25 % for the same work), so a leak shows as growth.
 */
export async function heapUsedAfterGc(stderr: () => string): Promise<number> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(stderr())?.[1];
  if (!url) throw new Error('the process was not started with INSPECT_ENV');
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const call = (
    method: string,
    params: object = {},
  ): Promise<{ result?: { result?: { value?: unknown } } }> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const onMessage = (data: WebSocket.RawData): void => {
        const message = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
        if (message.id !== id) return;
        ws.off('message', onMessage);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message as { result?: { result?: { value?: unknown } } });
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    // Twice: objects freed by the first collection's finalizers go in the second.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const reply = await call('Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    });
    const value = reply.result?.result?.value;
    if (typeof value !== 'number') throw new Error('heapUsed did not come back');
    return value;
  } finally {
    ws.close();
  }
}
