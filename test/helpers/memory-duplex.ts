import { Duplex } from 'node:stream';

/**
 * Two connected in-memory duplex streams (Node 20 has no `stream.duplexPair`).
 * Bytes written to one side are read from the other; ending one side ends the
 * other's readable; destroying one destroys both.
 */
export function memoryDuplexPair(): [Duplex, Duplex] {
  let left!: Duplex;
  let right!: Duplex;
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
  left = make(() => right);
  right = make(() => left);
  return [left, right];
}
