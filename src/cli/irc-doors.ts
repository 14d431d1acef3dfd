import type { ServerOptions } from './args';
import type { ChatServer } from '../server/chat-server';
import { listenIrcGateway, type IrcListener } from '../gateway/irc/irc-listener';
import { PortInUseError } from '../net/listen';
import type { TlsAcceptor } from '../net/tls-acceptor';

/** The IRC front doors: `--irc-port` (plain) and `--ircs-port` (TLS through `acceptor`), either or both. */
export interface IrcDoors {
  readonly plain: IrcListener | null;
  readonly secure: IrcListener | null;
  /** Ends every IRC session of both doors and frees their ports. */
  close(): Promise<void>;
}

/** Opens the IRC doors the options ask for; a taken port closes what was opened and throws PortInUseError for it. */
export async function openIrc(options: ServerOptions, server: ChatServer, acceptor?: TlsAcceptor): Promise<IrcDoors> {
  const open = (port: number | undefined, tls?: TlsAcceptor): Promise<IrcListener | null> =>
    port === undefined
      ? Promise.resolve(null)
      : listenIrcGateway(server, port, tls ? { tls } : {}).catch((err: unknown) => {
          throw err instanceof PortInUseError ? new PortInUseError(port) : err;
        });
  const plain = await open(options.ircPort);
  const secure = await open(options.ircsPort, acceptor).catch(async (err: unknown) => {
    await plain?.close().catch(() => undefined);
    throw err;
  });
  const close = async (): Promise<void> => {
    const doors = [plain, secure].filter((door): door is IrcListener => door !== null);
    await Promise.all(doors.map((door) => door.close().catch(() => undefined)));
  };
  return { plain, secure, close };
}
