import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readCpuSeconds, readMemory, type ProcessMemory } from '../server-process';

/**
 * An IRC server (Debian's ngIRCd or InspIRCd) as a child process for the
 * comparison runs in docs/benchmarks.md: a config written to a temp dir with
 * flood control, penalties, DNS and ident lookups off and no connection
 * limits, on a free loopback port. With `nodelay`, an LD_PRELOAD shim
 * (nodelay.c) sets TCP_NODELAY on every accepted socket, as chatapp does.
 */

export type IrcServerKind = 'ngircd' | 'inspircd' | 'chatapp';

/** chatapp's own CLI, run as `-s 0 --irc-port <port> --ephemeral`: its IRC gateway under the same load generator. */
const CHATAPP_MAIN = path.resolve(__dirname, '..', '..', 'src', 'main.js');
const BINARIES: Record<IrcServerKind, string> = {
  ngircd: '/usr/sbin/ngircd',
  inspircd: '/usr/sbin/inspircd',
  chatapp: process.execPath,
};
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class IrcServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly kind: IrcServerKind,
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts `kind` and resolves once its port accepts connections. */
  static async start(
    kind: IrcServerKind,
    options: { nodelay: boolean; serverArgs?: readonly string[]; serverNodeArgs?: readonly string[] },
  ): Promise<IrcServerProcess> {
    if (!fs.existsSync(BINARIES[kind])) throw new Error(`${BINARIES[kind]} is missing: apt-get install -y ${kind}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
    const port = await freePort();
    const config = path.join(dir, `${kind}.conf`);
    if (kind !== 'chatapp')
      fs.writeFileSync(config, kind === 'ngircd' ? ngircdConfig(port) : inspircdConfig(port, dir));
    const shim = options.nodelay && kind !== 'chatapp'; // chatapp sets TCP_NODELAY itself
    const env = { ...process.env, ...(shim ? { LD_PRELOAD: buildShim(dir) } : {}) };
    const args =
      kind === 'chatapp'
        ? [...(options.serverNodeArgs ?? []), ...argsOf(kind, config, port), ...(options.serverArgs ?? [])]
        : argsOf(kind, config, port);
    const log = fs.openSync(path.join(dir, 'server.log'), 'w');
    const child = spawn(BINARIES[kind], args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    live.add(child);
    child.on('exit', () => live.delete(child));
    const server = new IrcServerProcess(child, kind, port, dir);
    try {
      await server.waitListening();
      if (shim && !fs.readFileSync(`/proc/${server.pid}/maps`, 'utf8').includes('nodelay.so')) {
        throw new Error(`${kind} did not load the TCP_NODELAY shim`);
      }
      return server;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  memory(): ProcessMemory {
    return readMemory(this.pid);
  }

  cpuSeconds(): number {
    return readCpuSeconds(this.pid);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    // Kept for a look after the run, as the chatapp scenarios keep theirs (docs/benchmarks.md "Method").
    const results = path.resolve(__dirname, '..', '..', '..', 'bench', 'results');
    fs.mkdirSync(results, { recursive: true });
    fs.copyFileSync(path.join(this.dir, 'server.log'), path.join(results, `irc-server-${this.kind}.log`));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitListening(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(
          `${this.kind} exited: ${fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(0, 500)}`,
        );
      }
      if (await canConnect(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.kind} did not listen on ${this.port} within ${START_TIMEOUT_MS} ms`);
  }
}

function argsOf(kind: IrcServerKind, config: string, port: number): string[] {
  if (kind === 'ngircd') return ['-n', '-f', config];
  if (kind === 'inspircd') return ['--config', config, '--nofork', '--nopid', '--runasroot'];
  return [CHATAPP_MAIN, '-s', '0', '--irc-port', String(port), '--ephemeral'];
}

/** Compiles nodelay.c into `dir` (needs a C compiler) and returns the .so path. */
function buildShim(dir: string): string {
  const source = path.resolve(__dirname, '..', '..', '..', 'bench', 'irc', 'nodelay.c');
  const output = path.join(dir, 'nodelay.so');
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', output, source, '-ldl'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot build the TCP_NODELAY shim: ${cc.stderr || cc.error?.message}`);
  return output;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function ngircdConfig(port: number): string {
  return `[Global]
Name = bench.irc
Info = bench
AdminInfo1 = bench
AdminInfo2 = bench
AdminEMail = bench@bench.irc
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = bench
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxPenaltyTime = 0
PingTimeout = 120
PongTimeout = 20
[Options]
DNS = no
Ident = no
PAM = no
RequireAuthPing = no
`;
}

/** InspIRCd: threshold/commandrate far out of reach and fakelag off, else a sender is closed for "Excess Flood". */
function inspircdConfig(port: number, dir: string): string {
  return `<server name="bench.irc" description="bench" network="bench">
<admin name="bench" nick="bench" email="bench@bench.irc">
<bind address="127.0.0.1" port="${port}" type="clients">
<connect name="main" allow="*" timeout="60" pingfreq="120" hardsendq="67108864" softsendq="8388608" recvq="8388608"
  threshold="1000000000" commandrate="1000000000" fakelag="off" localmax="100000" globalmax="100000" useident="no"
  limit="100000" maxchans="100" resolvehostnames="no" uniqueusername="no">
<channels users="100" opers="100">
<limits maxnick="30" maxchan="60">
<performance netbuffersize="10240" somaxconn="4096" softlimit="100000" clonesonconnect="no" timeskipwarn="0" quietbursts="yes">
<dns timeout="1">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${dir}/inspircd.log">
`;
}
