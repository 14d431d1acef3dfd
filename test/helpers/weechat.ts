import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from './eventually';
import { tempDir } from './temp-dir';

/** True when WeeChat's headless binary (Debian package weechat-headless) is on this machine. */
export const haveWeechat: boolean = spawnSync('weechat-headless', ['--version'], { stdio: 'ignore' }).status === 0;

const WHY = 'weechat-headless is not installed (Debian package weechat-headless)';

/** `describe` for tests that drive WeeChat: skipped with a reason without it, failing under CI=true (.ci/run). */
export function describeWithWeechat(name: string, body: () => void): void {
  if (haveWeechat) return describe(name, body);
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs weechat-headless', () => {
        throw new Error(`${WHY}; CI must install it (.ci/run)`);
      });
    });
    return;
  }
  process.stderr.write(`SKIPPED: ${name} — ${WHY}\n`);
  describe.skip(name, body);
}

/**
 * A real WeeChat without a terminal (`weechat-headless`), in its own
 * directory: commands go in at start (`-r`) and later through its FIFO;
 * what it shows is read from its logger's files (flushed at once).
 */
export class Weechat {
  private readonly proc: ChildProcess;

  private constructor(
    readonly dir: string,
    startCommands: readonly string[],
  ) {
    const commands = ['/set logger.file.flush_delay 0', '/set fifo.file.enabled on', ...startCommands];
    this.proc = spawn('weechat-headless', ['--dir', dir, '-r', commands.join(';')], { stdio: 'ignore' });
  }

  /** Starts WeeChat running `commands` (separated as `-r` does, by `;`). */
  static start(commands: readonly string[]): Weechat {
    return new Weechat(tempDir('chatapp-weechat-'), commands);
  }

  /** Waits until the log of buffer `buffer` (e.g. `irc.server.chatapp`) contains `text`. */
  async waitLog(buffer: string, text: string | RegExp): Promise<string> {
    const file = path.join(this.dir, 'logs', `${buffer}.weechatlog`);
    return eventually(
      () => {
        const log = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
        return (typeof text === 'string' ? log.includes(text) : text.test(log)) && log;
      },
      `WeeChat's ${buffer} log to show ${String(text)}`,
      { timeoutMs: 30_000, everyMs: 50 },
    );
  }

  /** Runs `command` (or says `text`) in `buffer` through WeeChat's FIFO. */
  async input(buffer: string, command: string): Promise<void> {
    const fifo = await eventually(
      () => fs.readdirSync(this.dir).find((f) => f.startsWith('weechat_fifo')),
      "WeeChat's FIFO",
      { timeoutMs: 30_000, everyMs: 50 },
    );
    fs.writeFileSync(path.join(this.dir, fifo), `${buffer} *${command}\n`);
  }

  /** Kills WeeChat and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    await gone;
  }
}
