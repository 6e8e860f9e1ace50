/** Test helpers: the position of a token in a text, found without the parser (1-based line and column). */
export function pos_of(text: string, lineContains: string, token: string, nth = 0): string {
  const lines = text.split('\n');
  const matches = lines.flatMap((l, i) => (l.includes(lineContains) ? [i] : []));
  const i = matches[nth];
  if (i === undefined) throw new Error(`no line contains ${lineContains}`);
  const col = lines[i]!.indexOf(token, lines[i]!.indexOf(lineContains));
  if (col < 0) throw new Error(`line ${i + 1} has no ${token}`);
  return `${i + 1}:${col + 1}`;
}
