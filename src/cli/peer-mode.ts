import type { PeerOptions } from './args';
import type { Terminal } from './terminal-io';

/** Runs peer mode until it ends; resolves with the exit code. (Placeholder until implemented.) */
export async function runPeerMode(_options: PeerOptions, io: Terminal): Promise<number> {
  io.stderr.write('peer mode is not implemented yet\n');
  return 1;
}
