import { COMMAND_HELP, parseCommand } from '../../src/cli/command-parser';

describe('parseCommand in normal mode (docs/usage.md "Client")', () => {
  const parse = (line: string) => parseCommand(line, 'normal');

  it('parses send with the message preserved exactly after the name', () => {
    expect(parse('send bob hello world')).toEqual({ kind: 'send', name: 'bob', text: 'hello world' });
    expect(parse('send bob  two  spaces ')).toEqual({ kind: 'send', name: 'bob', text: ' two  spaces ' });
    expect(parse('send bob a:b;c "quoted" \\n')).toEqual({ kind: 'send', name: 'bob', text: 'a:b;c "quoted" \\n' });
  });

  it('refuses send with a missing name or message', () => {
    expect(parse('send')).toEqual({ kind: 'invalid' });
    expect(parse('send bob')).toEqual({ kind: 'invalid' });
    expect(parse('send bob ')).toEqual({ kind: 'invalid' });
    expect(parse('send bob    ')).toEqual({ kind: 'invalid' });
  });

  it('parses who in both modes, without arguments', () => {
    expect(parse('who')).toEqual({ kind: 'who' });
    expect(parseCommand('who', 'group')).toEqual({ kind: 'who' });
    expect(parse('who is there')).toEqual({ kind: 'invalid' });
  });

  it('parses dereg, create_group, list_groups, join_group and help', () => {
    expect(parse('dereg alice')).toEqual({ kind: 'dereg', name: 'alice' });
    expect(parse('create_group g1')).toEqual({ kind: 'create_group', group: 'g1' });
    expect(parse('list_groups')).toEqual({ kind: 'list_groups' });
    expect(parse('join_group g.1-x_y')).toEqual({ kind: 'join_group', group: 'g.1-x_y' });
    expect(parse('help')).toEqual({ kind: 'help' });
  });

  it('reports invalid group names (docs/usage.md "Command-line mistakes" name rule)', () => {
    expect(parse('create_group roomB;')).toEqual({ kind: 'invalid_group_name', group: 'roomB;' });
    expect(parse('join_group ' + 'x'.repeat(33))).toEqual({ kind: 'invalid_group_name', group: 'x'.repeat(33) });
  });

  it('refuses group-mode commands, unknown commands, missing and extra arguments', () => {
    for (const line of [
      'send_group hi',
      'list_members',
      'leave_group',
      'frobnicate',
      'SEND bob hi',
      'dereg',
      'create_group',
      'join_group',
      'create_group a b',
      'list_groups now',
      'help me',
      'dereg a b',
    ]) {
      expect(parse(line)).toEqual({ kind: 'invalid' });
    }
  });

  it('ignores empty and blank lines', () => {
    expect(parse('')).toEqual({ kind: 'empty' });
    expect(parse('   \t ')).toEqual({ kind: 'empty' });
  });

  it('tolerates leading blanks, a trailing CR and spaces around a single argument', () => {
    expect(parse('  list_groups\r')).toEqual({ kind: 'list_groups' });
    expect(parse('join_group  g1 ')).toEqual({ kind: 'join_group', group: 'g1' });
  });
});

describe('parseCommand in group mode (docs/usage.md "Client")', () => {
  const parse = (line: string) => parseCommand(line, 'group');

  it('parses send_group with the whole rest of the line as the message', () => {
    expect(parse('send_group hi all')).toEqual({ kind: 'send_group', text: 'hi all' });
    expect(parse('send_group  lead')).toEqual({ kind: 'send_group', text: ' lead' });
  });

  it('parses list_members, leave_group, dereg and help', () => {
    expect(parse('list_members')).toEqual({ kind: 'list_members' });
    expect(parse('leave_group')).toEqual({ kind: 'leave_group' });
    expect(parse('dereg bob')).toEqual({ kind: 'dereg', name: 'bob' });
    expect(parse('help')).toEqual({ kind: 'help' });
  });

  it('refuses normal-mode commands, even with an invalid group name, and a missing message', () => {
    for (const line of [
      'send bob hi',
      'create_group g',
      'create_group bad;',
      'list_groups',
      'join_group g',
      'send_group',
      'send_group   ',
      'leave_group now',
    ]) {
      expect(parse(line)).toEqual({ kind: 'invalid' });
    }
  });
});

describe('COMMAND_HELP', () => {
  it('lists exactly the commands the parser accepts in each mode', () => {
    const words = (mode: 'normal' | 'group') => COMMAND_HELP[mode].map((h) => h.split(' ')[0]);
    expect(words('normal')).toEqual([
      'send',
      'dereg',
      'create_group',
      'list_groups',
      'join_group',
      'delete_group',
      'delete_account',
      'who',
      'help',
    ]);
    expect(words('group')).toEqual(['send_group', 'list_members', 'history', 'leave_group', 'dereg', 'who', 'help']);
  });
});
