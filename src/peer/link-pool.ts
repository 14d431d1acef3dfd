import net from 'node:net';
import { listenTcp } from '../net/listen';
import type { Limits } from '../protocol/limits';
import type { MeshFrame } from '../protocol/mesh-frames';
import type { Clock } from '../util/clock';
import { dialLink, type PeerAddress } from './dialer';
import { MeshLink, type DialOutcome } from './mesh-link';

/** Where a LinkPool hands every link's traffic. */
export interface LinkHandlers {
  frame(link: MeshLink, frame: MeshFrame): void;
  close(link: MeshLink): void;
  fault(error: Error): void;
}

/**
 * Every open mesh link of one peer, inbound and outbound: the listening
 * socket, dialling with a deadline, the greeting deadline for accepted links,
 * and waiting for links to close. Knows nothing of members.
 */
export class LinkPool {
  private readonly server = net.createServer();
  private readonly links = new Set<MeshLink>();
  private closing = false;

  constructor(
    private readonly limits: Limits,
    private readonly clock: Clock,
    private readonly handlers: LinkHandlers,
  ) {
    this.server.on('connection', (socket) => this.accept(socket));
  }

  /** Binds the listen port (0 = any free one); rejects with PortInUseError. */
  listen(port: number, host?: string): Promise<number> {
    return listenTcp(this.server, port, host);
  }

  /** Dials `target`; `hello` is sent as soon as it connects. */
  dial(target: PeerAddress, hello: () => MeshFrame): Promise<DialOutcome> {
    const timeoutMs = Math.max(this.limits.ackTimeoutMs * this.limits.retries, 1_000);
    return dialLink(target, this.limits, this.clock, timeoutMs, (link) => {
      this.wire(link);
      link.conn.send(hello());
    });
  }

  /**
   * Stops listening, lets `farewell` queue a last frame on each link, closes
   * them all and waits until they are closed (a member that does not close
   * its end is cut off by FramedConnection's end grace). A link a dial still
   * in flight opens later is closed as it opens (`wire`).
   */
  async closeAll(farewell: (link: MeshLink) => void): Promise<void> {
    this.closing = true;
    this.server.close();
    const links = [...this.links];
    for (const link of links) {
      farewell(link);
      link.retire('gone');
    }
    await Promise.all(links.map((link) => link.conn.closeAndWait()));
  }

  private accept(socket: net.Socket): void {
    if (this.closing || this.links.size >= this.limits.maxClients) {
      socket.destroy();
      return;
    }
    const link = new MeshLink(socket, this.limits, this.clock, null);
    this.wire(link);
    // docs/protocol.md "Limits": a link must greet within the registration deadline.
    const timer = this.clock.setTimeout(() => {
      if (link.state === 'greeting') link.conn.close('register_timeout');
    }, this.limits.registerTimeoutMs);
    link.conn.on('close', () => this.clock.clearTimeout(timer));
  }

  private wire(link: MeshLink): void {
    this.links.add(link);
    link.conn.on('frame', (frame) => this.handlers.frame(link, frame));
    link.conn.on('fault', (error) => this.handlers.fault(error));
    link.conn.on('close', () => {
      this.links.delete(link);
      this.handlers.close(link);
    });
    if (this.closing) link.retire('gone'); // dialled before closeAll, connected after it
  }
}
