import type { ServerOptions } from './args';
import type { Terminal } from './terminal-io';

/** Runs server mode until it ends; resolves with the exit code. (Placeholder until implemented.) */
export async function runServerMode(_options: ServerOptions, io: Terminal): Promise<number> {
  io.stderr.write('server mode is not implemented yet\n');
  return 1;
}
