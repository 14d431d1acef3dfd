import readline from 'node:readline';
import type { Terminal } from './terminal-io';

/**
 * The terminal side of an interactive mode (client or peer). On a TTY it draws
 * the prompt and redraws the line being typed whenever a line is printed
 * (SPEC §2); on a pipe it draws no prompt and reads commands line by line, so
 * scripts see clean output.
 */
export class ConsoleUi {
  private readonly rl: readline.Interface;
  private readonly tty: boolean;
  private promptText = '>>> ';
  private closed = false;
  private readonly interruptHandlers: Array<() => void> = [];
  /** Created at once: readline emits lines as soon as it exists, and only an iterator buffers them. */
  private readonly input: AsyncIterableIterator<string>;

  constructor(private readonly io: Terminal) {
    this.tty = Boolean(io.stdin.isTTY && io.stdout.isTTY);
    this.rl = readline.createInterface({
      input: io.stdin,
      output: this.tty ? io.stdout : undefined,
      terminal: this.tty,
      prompt: this.promptText,
    });
    // On a TTY readline turns Ctrl+C into this event instead of a process signal.
    this.rl.on('SIGINT', () => this.interruptHandlers.forEach((h) => h()));
    this.input = this.rl[Symbol.asyncIterator]();
    this.rl.on('close', () => {
      this.closed = true;
    });
  }

  /** Sets the prompt (`>>> ` or `>>> (<group>) `); takes effect at the next draw. */
  setPrompt(text: string): void {
    this.promptText = text;
    this.rl.setPrompt(text);
  }

  /** Draws the prompt (TTY only). */
  prompt(): void {
    if (this.tty && !this.closed) this.rl.prompt(true);
  }

  /** Prints one user line to stdout without breaking the line being typed. */
  print(line: string): void {
    if (!this.tty || this.closed) {
      this.io.stdout.write(line + '\n');
      return;
    }
    readline.clearLine(this.io.stdout, 0);
    readline.cursorTo(this.io.stdout, 0);
    this.io.stdout.write(line + '\n');
    this.rl.prompt(true);
  }

  /** Prints a usage or internal-fault message to stderr. */
  printError(text: string): void {
    this.io.stderr.write(text + '\n');
  }

  /**
   * Typed lines in order, including any typed before this call (e.g. while
   * registering); ends at end of input. Consume with `for await`.
   */
  lines(): AsyncIterableIterator<string> {
    return this.input;
  }

  /** Called on Ctrl+C at a TTY prompt (SIGINT/SIGTERM signals come through Terminal.onSignal). */
  onInterrupt(handler: () => void): void {
    this.interruptHandlers.push(handler);
  }

  /** Stops reading input; the process may then exit. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tty) this.io.stdout.write('\n');
    this.rl.close();
  }
}
