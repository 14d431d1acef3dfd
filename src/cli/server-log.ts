import pino, { type Logger } from 'pino';
import type { Writable } from 'node:stream';
import type { ChatServer } from '../server/chat-server';

/** The levels `--log-level` accepts (pino's), quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

/**
 * The operational log (docs/operations.md "Logs"): JSON lines on `out`
 * (stderr), never on stdout, whose `>>> ` lines are the user-facing contract.
 */
export function createServerLog(level: LogLevel, out: Writable): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, out);
}

/**
 * Logs ChatServer's events at their levels: faults as errors; accounts,
 * groups, members removed and slow readers dropped as info; connections and
 * refused frames as debug. Nothing is logged per message.
 */
export function logServerEvents(server: ChatServer, log: Logger): void {
  server.on('fault', (err) => log.error({ err }, 'internal error'));
  server.on('groupLeft', (name, group, reason) => {
    // A removal is a normal outcome the >>> line already reports: info, so a healthy server's stderr stays empty.
    if (reason === 'unresponsive' || reason === 'slow') log.info({ name, group, reason }, 'member removed');
    else log.info({ name, group, reason }, 'left group');
  });
  server.on('connectionClosed', (code) => {
    if (code === 'slow_consumer') log.info({ code }, 'slow reader dropped');
    else log.debug({ code }, 'connection closed');
  });
  server.on('connectionOpened', () => log.debug('connection opened'));
  server.on('frameRejected', (code) => log.debug({ code }, 'frame rejected'));
  server.on('groupCreated', (name, group) => log.info({ name, group }, 'group created'));
  server.on('groupDeleted', (name, group) => log.info({ name, group }, 'group deleted'));
  server.on('groupJoined', (name, group) => log.info({ name, group }, 'joined group'));
  server.on('accountDeleted', (name) => log.info({ name }, 'account deleted'));
  server.on('draining', () => log.info('draining'));
}
