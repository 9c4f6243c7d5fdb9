import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tunnelsJsonSchema } from './schema.js';

/** Where the generated JSON Schema lives in the package (shipped for editors). */
export const SCHEMA_FILE_URL: URL = new URL('../../schema/tunnels.schema.json', import.meta.url);

/** The exact text of the generated schema file: the schema, pretty-printed, with a final newline. */
export function tunnelsSchemaText(): string {
  return `${JSON.stringify(tunnelsJsonSchema(), null, 2)}\n`;
}

/** Writes `schema/tunnels.schema.json` from the definition in schema.ts (`npm run -w @fwd/cli schema`). */
export function writeTunnelsSchema(path: string = fileURLToPath(SCHEMA_FILE_URL)): string {
  writeFileSync(path, tunnelsSchemaText());
  return path;
}

// Run directly (`tsx src/config/schema-file.ts`) to regenerate.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`wrote ${writeTunnelsSchema()}\n`);
}
