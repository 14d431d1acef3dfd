#!/usr/bin/env node
import { runCli } from './cli/program';
import type { Terminal } from './cli/terminal-io';
import { runServerMode } from './cli/server-mode';
import { runClientMode } from './cli/client-mode';
import { runPeerMode } from './cli/peer-mode';
import { toError } from './util/errors';

const VERSION: string = (require('../../package.json') as { version: string }).version;

const terminal: Terminal = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onSignal(handler) {
    const onInt = (): void => handler('SIGINT');
    const onTerm = (): void => handler('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    return () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  },
  onStatsRequest(handler) {
    process.on('SIGUSR2', handler);
    return () => process.off('SIGUSR2', handler);
  },
};

/** Entry point: run the CLI and map its outcome to exit code 0/1/2 (docs/usage.md "How output looks"). */
async function main(): Promise<void> {
  let code: number;
  try {
    code = await runCli(
      process.argv.slice(2),
      terminal,
      {
        server: runServerMode,
        client: runClientMode,
        peer: runPeerMode,
      },
      VERSION,
    );
  } catch (err) {
    process.stderr.write(`chatapp: internal error: ${toError(err).message}\n`);
    code = 1;
  }
  // Let stdout drain (pipes are async) before exiting with the code.
  process.stdout.write('', () => process.exit(code));
}

void main();
