import net from 'node:net';
import type { ConnectionLimits } from '../net/framed-connection';
import type { Clock } from '../util/clock';
import { MeshLink, type DialOutcome } from './mesh-link';

/** Where to dial a member. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Opens a TCP link to `target`. Once connected, `attach` wires the link and
 * sends `hello` (synchronously, so no frame can arrive unhandled); the promise
 * settles when the greeting ends or after `timeoutMs` without an answer.
 */
export function dialLink(
  target: PeerAddress,
  limits: ConnectionLimits,
  clock: Clock,
  timeoutMs: number,
  attach: (link: MeshLink) => void,
): Promise<DialOutcome> {
  return new Promise((resolve) => {
    let link: MeshLink | null = null;
    let done = false;
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (outcome: DialOutcome): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      resolve(outcome);
    };
    const timer = clock.setTimeout(() => {
      if (link) link.conn.destroy();
      else socket.destroy();
      finish('failed');
    }, timeoutMs);
    socket.once('error', () => {
      if (link) return; // after connect the link's own error boundary handles it
      socket.destroy();
      finish('failed');
    });
    socket.once('connect', () => {
      link = new MeshLink(socket, limits, clock, target);
      attach(link);
      void link.whenDialed().then(finish);
    });
  });
}
