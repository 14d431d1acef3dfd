import { RenameBook } from '../../src/gateway/irc/rename-book';

describe('RenameBook (docs/irc.md "Nick changes")', () => {
  test('swallows the joined of the new name and the left of the old one in each shared group, each once', () => {
    const book = new RenameBook();
    book.expect('bob', 'robert', ['a', 'B']);
    expect(book.consume('joined', 'Robert', 'a')).toBe(true);
    expect(book.consume('joined', 'robert', 'a')).toBe(false);
    expect(book.consume('left', 'bob', 'b')).toBe(true);
    expect(book.consume('left', 'robert', 'b')).toBe(false);
    expect(book.consume('joined', 'bob', 'b')).toBe(false);
    expect(book.size).toBe(2);
  });

  test('forgets a group the user left, and holds at most 1024 notices', () => {
    const book = new RenameBook();
    book.expect('x', 'y', ['g', 'h']);
    book.forgetGroup('G');
    expect(book.size).toBe(2);
    expect(book.consume('joined', 'y', 'g')).toBe(false);
    for (let i = 0; i < 2000; i++) book.expect(`n${i}`, `m${i}`, ['g']);
    expect(book.size).toBe(1024);
    expect(book.consume('joined', 'm1999', 'g')).toBe(true);
    expect(book.consume('joined', 'm0', 'g')).toBe(false);
  });
});
