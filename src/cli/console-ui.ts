import readline from 'node:readline';
import type { Terminal } from './terminal-io';

/**
 * Whether the prompt is drawn: not before the session first asks for one
 * (lines printed while starting leave none behind), then after every line,
 * and never again once the session is ending.
 */
type PromptState = 'not_yet' | 'on' | 'ended';

/**
 * The terminal side of an interactive mode (client or peer). On a TTY it draws
 * the prompt and redraws the line being typed whenever a line is printed
 * (docs/usage.md "How output looks"); on a pipe it draws no prompt and reads commands line by line, so
 * scripts see clean output. However a session ends (dereg, Ctrl+C, Ctrl+D,
 * a refused start), no prompt is left on the screen (docs/usage.md "The
 * prompt").
 */
export class ConsoleUi {
  private readonly rl: readline.Interface;
  private readonly tty: boolean;
  private promptText = '>>> ';
  private closed = false;
  private promptState: PromptState = 'not_yet';
  /** True while the current screen line holds the prompt (and what is being typed). */
  private promptOnScreen = false;
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
    // Enter moved the cursor to a fresh line; Ctrl+D (close) left the prompt where it was.
    this.rl.on('line', () => {
      this.promptOnScreen = false;
    });
    this.rl.on('close', () => {
      this.closed = true;
    });
  }

  /** Sets the prompt (`>>> ` or `>>> (<group>) `); takes effect at the next draw. */
  setPrompt(text: string): void {
    this.promptText = text;
    this.rl.setPrompt(text);
  }

  /** Draws the prompt (TTY only), and after every printed line from now on. */
  prompt(): void {
    if (this.promptState === 'not_yet') this.promptState = 'on';
    this.drawPrompt();
  }

  /**
   * The session is ending: no prompt is drawn again, and the one on the
   * screen is erased, so its last lines and the shell's prompt follow clean.
   */
  stopPrompting(): void {
    this.promptState = 'ended';
    this.erasePrompt();
  }

  /** Prints one user line to stdout without breaking the line being typed. */
  print(line: string): void {
    this.erasePrompt();
    this.io.stdout.write(line + '\n');
    this.drawPrompt();
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

  /** Stops reading input, leaving no prompt behind; the process may then exit. */
  close(): void {
    this.stopPrompting();
    if (this.closed) return;
    this.closed = true;
    this.rl.close();
  }

  private drawPrompt(): void {
    if (!this.tty || this.closed || this.promptState !== 'on') return;
    this.rl.prompt(true);
    this.promptOnScreen = true;
  }

  /** Clears the screen line holding the prompt, if it does (TTY only). */
  private erasePrompt(): void {
    if (!this.tty || !this.promptOnScreen) return;
    readline.clearLine(this.io.stdout, 0);
    readline.cursorTo(this.io.stdout, 0);
    this.promptOnScreen = false;
  }
}
