/**
 * Why `text` is not a well-formed XML document (XML 1.0 §2), or null when it is: every character allowed (§2.2),
 * every `&` an entity or character reference, every tag closed in order with quoted attributes that hold no `<`,
 * comments without `--`, one root element. Enough to catch what names could break; no DTDs.
 */
export function xmlProblem(text: string): string | null {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad !== null) return `character U+${bad[0].codePointAt(0)!.toString(16)} at ${bad.index}`;
  const amp = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.exec(text);
  if (amp !== null) return `a bare & at ${amp.index}`;
  const open: string[] = [];
  let roots = 0;
  let at = text.startsWith("<?xml") ? text.indexOf("?>") + 2 : 0;
  while (at < text.length) {
    const lt = text.indexOf("<", at);
    const chunk = lt < 0 ? text.slice(at) : text.slice(at, lt);
    if (chunk.includes(">") && chunk.includes("]]>")) return `]]> in text at ${at}`;
    if (open.length === 0 && chunk.trim() !== "") return `text outside the root element at ${at}`;
    if (lt < 0) break;
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end < 0 || text.slice(lt + 4, end).includes("--")) return `a bad comment at ${lt}`;
      at = end + 3;
      continue;
    }
    const m = TAG.exec(text.slice(lt));
    if (m === null) return `a bad tag at ${lt}: ${JSON.stringify(text.slice(lt, lt + 60))}`;
    const [whole, close, name, , selfClosing] = m;
    if (close === "/") {
      if (open.pop() !== name) return `</${name}> closes nothing open at ${lt}`;
    } else if (selfClosing !== "/") {
      if (open.length === 0) roots++;
      open.push(name!);
    } else if (open.length === 0) {
      roots++;
    }
    at = lt + whole!.length;
  }
  if (open.length > 0) return `<${open.at(-1)}> is never closed`;
  if (roots !== 1) return `${roots} root elements`;
  return null;
}

const NOT_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML forbids are what this looks for.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TAG = /^<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/;
