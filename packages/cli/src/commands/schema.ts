import { tunnelsJsonSchema } from '../config/index.js';
import { type CliIO, EXIT } from '../io.js';

/** `fwd schema`: the JSON Schema of tunnels.yaml, for editors (yaml-language-server). */
export async function schemaCommand(_argv: string[], io: CliIO): Promise<number> {
  io.stdout.write(`${JSON.stringify(tunnelsJsonSchema(), null, 2)}\n`);
  return EXIT.ok;
}
