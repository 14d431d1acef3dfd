import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, ERROR_CODE_LIST, FATAL_CODES } from '../../src/protocol/errors';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';
import { optionName } from '../../src/cli/args';

const DOC = readFileSync(path.join(__dirname, '../../docs/protocol.md'), 'utf8');

/** The rows of the first markdown table under the `## <heading>` section, as trimmed cells. */
function tableUnder(heading: string): string[][] {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/protocol.md has no "## ${heading}" section`);
  const next = DOC.indexOf('\n## ', start + 1);
  const section = DOC.slice(start, next === -1 ? undefined : next);
  const rows = section
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    );
  // rows[0] is the header, rows[1] the --- separator.
  expect(rows.length).toBeGreaterThan(2);
  expect(rows[1]!.every((cell) => /^:?-+:?$/.test(cell))).toBe(true);
  return rows.slice(2);
}

const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

describe('docs/protocol.md stays in step with the code', () => {
  it('lists exactly the error catalogue, in order, with the same fatal flags and meanings', () => {
    const rows = tableUnder('Error codes');
    expect(rows.map((r) => unquote(r[0]!))).toEqual(ERROR_CODE_LIST);
    for (const [code, fatal, meaning] of rows) {
      const key = unquote(code!) as keyof typeof ERROR_CODES;
      expect([key, fatal]).toEqual([key, FATAL_CODES.has(key) ? 'yes' : 'no']);
      expect([key, meaning]).toEqual([key, ERROR_CODES[key]]);
    }
  });

  it('lists exactly the limits with their defaults and command-line options', () => {
    const rows = tableUnder('Limits');
    expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(DEFAULT_LIMITS));
    for (const [limit, option, def] of rows) {
      const key = unquote(limit!) as keyof typeof DEFAULT_LIMITS;
      expect([key, unquote(option!)]).toEqual([key, `--${optionName(key)}`]);
      expect([key, Number(def!.replace(/[,_\s]/g, ''))]).toEqual([key, DEFAULT_LIMITS[key]]);
    }
  });
});
