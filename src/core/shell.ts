/**
 * The one way shell text is built: `sh` quotes every interpolated value unless it is marked
 * `raw`. It lives in core/ so every layer (model/plan excepted) can import it without a cycle.
 */

/** Text that goes into a command as it is: a snippet built with `sh`, a `"$var"`, a redirection. */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function raw(text: string): Raw {
  return new Raw(text);
}

export type ShellValue = string | number | bigint | Raw | readonly ShellValue[];

// Words made only of these read back the same without quotes; bare is easier to read in logs.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One value as one sh word: bare when nothing in it is special, else single-quoted. */
export function quote(value: string | number | bigint): string {
  const s = String(value);
  if (SAFE_WORD.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function word(value: unknown, at: () => string): string {
  if (value instanceof Raw) return value.text;
  if (typeof value === 'string' || typeof value === 'bigint') return quote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`sh: ${value} is not a shell word, ${at()}`);
    return quote(value);
  }
  // several words: each quoted on its own
  if (Array.isArray(value)) return value.map((v: unknown) => word(v, at)).join(' ');
  const what = value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
  throw new TypeError(`sh: value is ${what}, ${at()}; pass a string, number, array or raw()`);
}

/** sh`pg_ctlcluster ${version} ${name} start`: every `${}` one quoted word, arrays several. */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellValue[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out +=
      word(
        v,
        () =>
          `after "${strings
            .slice(0, i + 1)
            .join('${…}')
            .slice(-60)}"`,
      ) + strings[i + 1]!;
  });
  return out;
}
