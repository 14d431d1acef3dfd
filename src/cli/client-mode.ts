import type { ClientOptions } from './args';
import type { Terminal } from './terminal-io';

/** Runs client mode until it ends; resolves with the exit code. (Placeholder until implemented.) */
export async function runClientMode(_options: ClientOptions, io: Terminal): Promise<number> {
  io.stderr.write('client mode is not implemented yet\n');
  return 1;
}
