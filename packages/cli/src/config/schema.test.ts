import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Errors } from 'typebox/schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tunnelsFileSchema, tunnelsJsonSchema } from './schema.js';
import { SCHEMA_FILE_URL, tunnelsSchemaText } from './schema-file.js';
import { validateAgainstSchema } from './validate.js';

// Files that must be valid (first) and invalid (second) for both validators.
const valid = [
  'version: 1\ntunnels: { a: { host: h, local: 8888:localhost:8888 } }',
  'version: 1\ndefaults: { keepalive: 1m30s, hostKeys: accept-new }\nhosts: { h: { port: 22, jump: [a, b] } }\ntunnels: { a: { host: h, dynamic: [1080, "127.0.0.1:1081"] } }',
  'version: 1\nhosts: { r: { transport: { type: websocket, url: "wss://x/", headers: { X-A: b }, rejectUnauthorized: false } } }\ntunnels: { a: { host: r, remote: [0:localhost:3000] } }',
  'version: 1\ntunnels: { a: { host: h, local: "1:x:1", slurm: { job: "42_3", timeout: 10m }, ready: { tcp: true }, via: login } }',
  'version: 1\nhosts: { c: { certificateFile: [a-cert.pub], transport: { type: command, command: "nc %h %p" } } }\ntunnels: { a: { host: c, local: 1:x:1 } }',
];
const invalid = [
  'version: 2\ntunnels: {}',
  'version: 1\ntunnels: { A: { host: h } }',
  'version: 1\ntunnels: { a: { host: h, extra: 1 } }',
  'version: 1\ntunnels: { a: { host: h, local: [] } }',
  'version: 1\ntunnels: { a: { host: h, ready: { http: /x, tcp: true } } }',
  'version: 1\nhosts: { h: { transport: { type: tcp, url: "wss://x/" } } }\ntunnels: {}',
  'version: 1\nhosts: { h: { port: 0 } }\ntunnels: {}',
  'version: 1\nhosts: { h: { transport: { type: command, command: " " } } }\ntunnels: {}',
  'version: 1\ndefaults: { keepalive: 15 }\ntunnels: {}',
  'tunnels: {}',
];

describe('tunnels.yaml schema', () => {
  it('matches the committed schema/tunnels.schema.json (run `npm run -w @fwd/cli schema` after changing it)', () => {
    const committed = readFileSync(fileURLToPath(SCHEMA_FILE_URL), 'utf8');
    expect(committed).toBe(tunnelsSchemaText());
  });

  it('is a draft 2020-12 schema that forbids unknown keys everywhere', () => {
    const schema = tunnelsJsonSchema() as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const objects: Record<string, unknown>[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        const record = node as Record<string, unknown>;
        if (record.type === 'object') objects.push(record);
        Object.values(record).forEach(walk);
      }
    };
    walk(schema);
    expect(objects.length).toBeGreaterThan(8);
    for (const object of objects) {
      // Only the free-form `headers` map may take any key.
      if (object.additionalProperties !== false)
        expect(object.patternProperties).toEqual({ '^.*$': { type: 'string' } });
    }
  });

  it.each(valid)('both the loader validator and TypeBox accept %j', (text) => {
    const data = parse(text);
    expect(validateAgainstSchema(tunnelsFileSchema, data).issues).toEqual([]);
    expect(Errors(tunnelsFileSchema, data)[0]).toBe(true);
  });

  it.each(invalid)('both the loader validator and TypeBox reject %j', (text) => {
    const data = parse(text);
    expect(validateAgainstSchema(tunnelsFileSchema, data).issues.length).toBeGreaterThan(0);
    expect(Errors(tunnelsFileSchema, data)[0]).toBe(false);
  });

  it('refuses a schema keyword the validator does not understand, instead of ignoring it', () => {
    expect(() => validateAgainstSchema({ type: 'string', format: 'uri' }, 'x')).toThrow(
      /unsupported keyword format/,
    );
  });
});
