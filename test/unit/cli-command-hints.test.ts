import { editDistance, hintFor } from '../../src/cli/command-hints';
import { hintLine, whoLines } from '../../src/cli/client-lines';

const KEY = Buffer.alloc(32, 1).toString('base64');

/** docs/usage.md "When a command is refused": the one hint line after `[Invalid command]`. */
describe('hintFor', () => {
  it('gives the usage of a known command with wrong arguments', () => {
    expect(hintFor('send bob', 'normal')).toEqual({ kind: 'usage', usage: 'send <name> <message>' });
    expect(hintFor('send', 'normal')).toEqual({ kind: 'usage', usage: 'send <name> <message>' });
    expect(hintFor('dereg', 'group')).toEqual({ kind: 'usage', usage: 'dereg <name>' });
    expect(hintFor('list_groups now', 'normal')).toEqual({ kind: 'usage', usage: 'list_groups' });
    expect(hintFor('send_group', 'group')).toEqual({ kind: 'usage', usage: 'send_group <message>' });
  });

  it('tells a command of the other mode which mode it needs', () => {
    expect(hintFor('send bob hi', 'group')).toEqual({ kind: 'not_in_group_mode', command: 'send' });
    expect(hintFor('create_group g', 'group')).toEqual({ kind: 'not_in_group_mode', command: 'create_group' });
    expect(hintFor('send_group hi', 'normal')).toEqual({ kind: 'only_in_group', command: 'send_group' });
    expect(hintFor('list_members', 'normal')).toEqual({ kind: 'only_in_group', command: 'list_members' });
  });

  it('takes a close typo for the command of this mode it is near', () => {
    expect(hintFor('creat_group x', 'normal')).toEqual({ kind: 'usage', usage: 'create_group <group>' });
    expect(hintFor('SEND bob hi', 'normal')).toEqual({ kind: 'usage', usage: 'send <name> <message>' });
    expect(hintFor('list_member', 'group')).toEqual({ kind: 'usage', usage: 'list_members' });
  });

  it('guesses nothing for far-off words, short words and blank lines', () => {
    for (const line of ['zz_not_a_command', 'frobnicate', 'ls', 'hi', '', '   ']) {
      expect(hintFor(line, 'normal')).toBeNull();
    }
  });

  it('renders each hint as its exact line body', () => {
    expect(hintLine({ kind: 'usage', usage: 'send <name> <message>' })).toEqual(['[Usage: send <name> <message>]']);
    expect(hintLine({ kind: 'not_in_group_mode', command: 'send' })).toEqual([
      '[send is not available in group mode. Type leave_group first.]',
    ]);
    expect(hintLine({ kind: 'only_in_group', command: 'send_group' })).toEqual([
      '[send_group works only in a group. Type join_group <group> first.]',
    ]);
    expect(hintLine(null)).toEqual([]);
  });

  it('measures edit distance', () => {
    expect(editDistance('creat_group', 'create_group')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('whoLines', () => {
  it('lists the online clients only, sorted without regard to case', () => {
    const entry = (name: string, online = true) => ({ name, host: '127.0.0.1', port: 1, online, key: KEY });
    expect(whoLines([entry('carol'), entry('Bob'), entry('alice'), entry('dave', false), entry('Alice2')])).toEqual([
      '[Online clients:]',
      'alice',
      'Alice2',
      'Bob',
      'carol',
    ]);
  });
});
