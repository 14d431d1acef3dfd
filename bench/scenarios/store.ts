import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ChatClient } from '../../src/client/chat-client';
import { migrate } from '../../src/store/sqlite/schema';
import {
  clientName,
  emptyResult,
  log,
  startServer,
  waitUntil,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import { nowMs } from '../message-text';
import type { ServerProcess } from '../server-process';
import { exactPercentile, round } from '../stats';

/**
 * Scenarios of the embedded database (docs/benchmarks.md "Store"), each on a
 * real server with its own `--data` directory:
 *  - history: one member stores `--messages` group messages; a second member
 *             fetches the last 100 (`history 100`) 200 times: p50/p99 of one
 *             fetch; then the server stops and the database's bytes per stored
 *             message are read from the file (minus an empty database's).
 *  - saved:   `--clients` rounds of: 100 private messages saved for an offline
 *             receiver, then the receiver registers: time from its `register`
 *             to the last saved message shown; p50/p99 over the rounds.
 *  - startup: a database with `--messages` history rows (1,000,000), built
 *             directly with better-sqlite3 and the store's own migrations;
 *             time from spawning the server to its online line, after a crash
 *             (no checksum recorded) and after a clean stop (checksum checked).
 */

const FETCHES = 200;
const FETCH_SIZE = 100;
const SAVED_PER_ROUND = 100;
const STARTS = 3;

/** A ChatClient for the bench (its direct-message listener on loopback, no files). */
function client(index: number, server: ServerProcess, identityOf?: ChatClient): ChatClient {
  return new ChatClient({
    name: clientName(index),
    serverHost: '127.0.0.1',
    serverPort: server.port,
    listenPort: 0,
    listenHost: '127.0.0.1',
    ...(identityOf ? { identity: identityOf.identity } : {}),
  });
}

async function online(c: ChatClient): Promise<void> {
  await c.start();
  const result = await c.register();
  if (result !== 'ok') throw new Error(`register ${c.name}: ${JSON.stringify(result)}`);
}

function summary(samples: number[]): Record<string, number | null> {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number | null => {
    const v = exactPercentile(sorted, p);
    return v === null ? null : round(v, 2);
  };
  return { p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

function dataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-bench-store-'));
}

export async function runHistory(options: ScenarioOptions): Promise<ScenarioResult> {
  const dir = dataDir();
  const emptyBytes = await emptyDatabaseBytes(options);
  // Every message kept (the default limit, 1,000 per group, would trim them), so bytes per message are real.
  const limit = String(Math.max(1, options.messages));
  const server = await startServer('history', options, ['--data', dir, '--history-limit', limit]);
  const writer = client(0, server);
  const reader = client(1, server);
  try {
    await online(writer);
    await online(reader);
    await writer.createGroup('bench');
    await writer.joinGroup('bench');
    const text = 'x'.repeat(options.size);
    const storeStarted = nowMs();
    for (let i = 0; i < options.messages; i++) {
      const sent = await writer.sendGroup(text);
      if (sent !== 'received') throw new Error(`send_group: ${JSON.stringify(sent)}`);
    }
    const storeSeconds = (nowMs() - storeStarted) / 1000;
    await reader.joinGroup('bench');
    const samples: number[] = [];
    for (let i = 0; i < FETCHES; i++) {
      const started = nowMs();
      const result = await reader.history(FETCH_SIZE);
      samples.push(nowMs() - started);
      if (
        typeof result !== 'object' ||
        !('history' in result) ||
        result.history.length !== Math.min(FETCH_SIZE, options.messages)
      )
        throw new Error(`history: ${JSON.stringify(result).slice(0, 200)}`);
    }
    await Promise.all([writer.close(), reader.close()]);
    await server.stop();
    const bytes = fs.statSync(path.join(dir, 'chatapp.db')).size;
    const result = emptyResult('history', options);
    result.messagesPerClient = options.messages;
    result.extra = {
      fetch: FETCH_SIZE,
      fetches: FETCHES,
      historyFetchMs: summary(samples),
      storedPerSec: round(options.messages / storeSeconds, 0),
      databaseBytes: bytes,
      emptyDatabaseBytes: emptyBytes,
      bytesPerMessage: round((bytes - emptyBytes) / options.messages, 1),
      textBytes: options.size,
    };
    return result;
  } finally {
    await Promise.all([writer.close(), reader.close()]);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The size of a database a server created and stopped with nothing in it. */
async function emptyDatabaseBytes(options: ScenarioOptions): Promise<number> {
  const dir = dataDir();
  try {
    const server = await startServer('history-empty', options, ['--data', dir]);
    await server.stop();
    return fs.statSync(path.join(dir, 'chatapp.db')).size;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSaved(options: ScenarioOptions): Promise<ScenarioResult> {
  const server = await startServer('saved', options);
  const sender = client(0, server);
  const samples: number[] = [];
  let receiver = client(1, server);
  try {
    await online(sender);
    await online(receiver);
    for (let round = 0; round < options.clients; round++) {
      await receiver.deregister();
      await receiver.close();
      // The sender's table must say offline, or it would try the receiver directly.
      if (!(await waitUntil(() => sender.lookup(receiver.name)?.online === false, 10_000)))
        throw new Error('the sender never saw the receiver go offline');
      for (let i = 0; i < SAVED_PER_ROUND; i++) {
        const sent = await sender.sendDirect(receiver.name, `saved ${round}.${i}`);
        if (sent !== 'saved') throw new Error(`send to an offline receiver: ${JSON.stringify(sent)}`);
      }
      const back = client(1, server, receiver);
      let shown = 0;
      back.on('savedMessages', (messages) => (shown += messages.length));
      await back.start();
      const started = nowMs();
      const registered = await back.register();
      if (registered !== 'ok') throw new Error(`register ${back.name}: ${JSON.stringify(registered)}`);
      await back.savedArrived();
      samples.push(nowMs() - started);
      if (shown !== SAVED_PER_ROUND) throw new Error(`round ${round}: ${shown} saved messages shown`);
      receiver = back;
    }
    log(options, `saved: ${options.clients} rounds of ${SAVED_PER_ROUND}`);
    const result = emptyResult('saved', options);
    result.messagesPerClient = SAVED_PER_ROUND;
    result.extra = { rounds: options.clients, registerToAllShownMs: summary(samples) };
    return result;
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
    await server.stop();
  }
}

export async function runStartup(options: ScenarioOptions): Promise<ScenarioResult> {
  const dir = dataDir();
  try {
    const built = nowMs();
    const bytes = buildHistoryDatabase(path.join(dir, 'chatapp.db'), options.messages, options.size);
    log(options, `startup: ${options.messages} rows, ${bytes} bytes built in ${Math.round(nowMs() - built)} ms`);
    const afterCrash: number[] = [];
    const afterCleanStop: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      fs.rmSync(path.join(dir, 'chatapp.db.sha256'), { force: true }); // as after kill -9
      afterCrash.push(await timeStart(options, dir));
      afterCleanStop.push(await timeStart(options, dir)); // the previous start stopped cleanly
    }
    const result = emptyResult('startup', options);
    result.messagesPerClient = options.messages;
    result.extra = {
      historyRows: options.messages,
      databaseBytes: bytes,
      startAfterCrashMs: summary(afterCrash),
      startAfterCleanStopMs: summary(afterCleanStop),
      runs: STARTS,
    };
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawn → `Server is online` line, in ms; the server is stopped cleanly afterwards. */
async function timeStart(options: ScenarioOptions, dir: string): Promise<number> {
  const started = nowMs();
  const server = await startServer('startup', options, ['--data', dir]);
  const ms = nowMs() - started;
  await server.stop();
  return round(ms, 1);
}

/** Rows per group: the default --history-limit, so the database is one the server could have written. */
const ROWS_PER_GROUP = 1_000;

/** Writes `rows` history rows, 1,000 per group, as the server stores them (its own migrations); returns the file's size. */
function buildHistoryDatabase(file: string, rows: number, size: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const groups = Math.max(1, Math.ceil(rows / ROWS_PER_GROUP));
  const text = 'x'.repeat(size);
  const at = Date.now();
  const addGroup = db.prepare('INSERT INTO groups (name, creator, created_at, last_seq) VALUES (?, ?, ?, ?)');
  const addRow = db.prepare('INSERT INTO history (grp, seq, sender, text, at) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let g = 0; g < groups; g++) {
      const perGroup = Math.floor(rows / groups) + (g < rows % groups ? 1 : 0);
      addGroup.run(`g${g}`, 'b0', at, perGroup);
      for (let seq = 1; seq <= perGroup; seq++) addRow.run(`g${g}`, seq, `b${seq % 1000}`, text, at + seq);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return fs.statSync(file).size;
}
