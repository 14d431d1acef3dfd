import fs from 'node:fs';
import path from 'node:path';
import { foldName } from '../protocol/names';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';

/** How a verified dm compares with what this client already took (docs/security.md "Replay"). */
export type ReplayVerdict = 'new' | 'seen' | 'too_old';

/** Where and how much to remember. */
export interface ReceivedLogOptions {
  /** Most `(from, id)` pairs remembered; past it the oldest is forgotten and the floor rises. */
  readonly capacity: number;
  /** The dm timestamp window (`directMessageMaxSkewMs`): anything older is refused as stale anyway. */
  readonly windowMs: number;
  readonly clock: Clock;
  /** The journal file; null keeps everything in memory (lost at exit). */
  readonly file: string | null;
  /** Told once when the journal cannot be read or written; the log then carries on in memory. */
  readonly onFault: (error: Error) => void;
}

/** A journal line: an accepted dm `[ts, from, id]`, or the floor `[ts]`. */
type JournalLine = [number, string, string] | [number];

/**
 * The private messages this client accepted, so a replayed one is never shown
 * again — also after a restart, when the journal file is given (the CLI keeps
 * it under `$XDG_DATA_HOME/chatapp/received/`). Remembers every `(from, id)`
 * whose timestamp is still inside the accepted window, up to `capacity`; when
 * it must forget one early it raises a floor instead, and refuses anything
 * not remembered at or below it, so forgetting never reopens a replay.
 */
export class ReceivedLog {
  /** `from\nid` → ts, oldest accepted first. */
  private readonly entries = new Map<string, number>();
  /** Timestamps are >= 0 (frames.ts), so -1 is "no floor yet". */
  private floor = -1;
  private journalLines = 0;
  /** False until the journal was rewritten by this process (done lazily, at the first accepted dm). */
  private compacted = false;
  private file: string | null;

  constructor(private readonly options: ReceivedLogOptions) {
    this.file = options.file;
    if (this.file !== null) this.load(this.file);
  }

  /** Whether a verified dm is new, a repeat of one already taken, or below the floor. */
  check(from: string, id: string, ts: number): ReplayVerdict {
    if (this.entries.has(key(from, id))) return 'seen';
    return ts <= this.floor ? 'too_old' : 'new';
  }

  /** Remembers an accepted dm (and writes it to the journal before it is shown). */
  record(from: string, id: string, ts: number): void {
    this.entries.set(key(from, id), ts);
    this.evict();
    this.append([ts, from, id]);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops entries older than the window; past capacity, drops the oldest and raises the floor. */
  private evict(): void {
    const oldest = this.options.clock.now() - this.options.windowMs;
    for (const [k, ts] of this.entries) {
      if (this.entries.size <= this.options.capacity && ts >= oldest) break;
      this.entries.delete(k);
      if (ts >= oldest) this.floor = Math.max(this.floor, ts);
    }
  }

  private load(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fault(err);
      return;
    }
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry === null) continue; // a torn last line or a foreign one: skip, never crash
      if (entry.length === 1) this.floor = Math.max(this.floor, entry[0]);
      else this.entries.set(key(entry[1], entry[2]), entry[0]);
    }
    this.evict();
  }

  private append(line: JournalLine): void {
    if (this.file === null) return;
    try {
      if (!this.compacted || this.journalLines > 2 * this.options.capacity) this.rewrite(this.file);
      else {
        fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
        this.journalLines++;
      }
    } catch (err) {
      this.fault(err);
    }
  }

  /** Writes the floor and every remembered entry to a fresh file, then renames it over the journal. */
  private rewrite(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const lines: JournalLine[] = [[this.floor]];
    for (const [k, ts] of this.entries) {
      const cut = k.indexOf('\n'); // names never contain a newline; ids may
      lines.push([ts, k.slice(0, cut), k.slice(cut + 1)]);
    }
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, lines.map((l) => JSON.stringify(l)).join('\n') + '\n', { mode: 0o600 });
    fs.renameSync(temp, file);
    this.journalLines = lines.length;
    this.compacted = true;
  }

  private fault(err: unknown): void {
    this.file = null;
    this.options.onFault(new Error(`received-messages journal: ${toError(err).message}`));
  }
}

/** The journal of client `name` under a data directory: `<dir>/received/<name in lower case>.jsonl`. */
export function receivedJournal(dataDir: string, name: string): string {
  return path.join(dataDir, 'received', `${name.toLowerCase()}.jsonl`);
}

/** The sender's name without case (a name is one name in any case, docs/usage.md "Names"), then the id. */
function key(from: string, id: string): string {
  return `${foldName(from)}\n${id}`;
}

function parseLine(line: string): JournalLine | null {
  if (line === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || !Number.isSafeInteger(value[0])) return null;
  if (value.length === 1) return [value[0] as number];
  if (value.length === 3 && typeof value[1] === 'string' && typeof value[2] === 'string') {
    return [value[0] as number, value[1], value[2]];
  }
  return null;
}
