import { Duplex } from 'node:stream';

/**
 * Two connected in-memory duplex streams that behave like the two ends of a
 * TCP connection: bytes written to one side are read from the other; ending
 * one side ends the other's readable; destroying one destroys both, so the
 * other side sees 'close' as a socket whose peer went away does.
 *
 * Node 20's `stream.duplexPair` does not do the last part: destroying one of
 * its sides leaves the other open with no 'end' and no 'close' (and a write
 * completes only once the other side reads it). Component tests need the
 * close to travel — a server dropping a connection, a fake server losing its
 * clients — so they use this pair.
 */
export function memoryDuplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(err, callback) {
        const other = peer();
        if (!other.destroyed) other.destroy();
        callback(err);
      },
    });
  const left: Duplex = make(() => right);
  const right: Duplex = make(() => left);
  return [left, right];
}
