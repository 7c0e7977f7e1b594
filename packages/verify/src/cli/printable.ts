// Characters a terminal acts on instead of showing: C0 controls, DEL, C1 controls (ECMA-48), and
// the Unicode bidirectional formatting characters (UAX #9), which reorder what follows them.
function isUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escapeUnsafe(text: string, keepNewlines: boolean): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isUnsafe(code) || (keepNewlines && code === 0x0a)) continue;
    // \uXXXX: readable in a terminal, and a valid escape inside a JSON string.
    out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Escapes every character a terminal would interpret (C0 and C1 controls, DEL, bidi overrides)
 * as `\uXXXX`, line breaks included: for a value from untrusted data (an entry, a checkpoint,
 * a server's reply), which must print as one inert piece of text.
 */
export function printable(text: string): string {
  return escapeUnsafe(text, false);
}

/** Like {@link printable} but keeps `\n`: for whole lines of output the verifier composed itself. */
export function printableLines(text: string): string {
  return escapeUnsafe(text, true);
}
