/**
 * Parameter names of a method, read from its source, so that key templates can say `{userId}`
 * instead of `{0}`. Destructured parameters have no name (null): refer to them by index.
 */
export function methodParameterNames(method: (...args: any[]) => unknown): (string | null)[] {
  const source = Function.prototype.toString.call(method);
  const open = source.indexOf('(');
  if (open < 0) return [];
  let depth = 0;
  let close = open;
  for (; close < source.length; close++) {
    const c = source[close];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    if (depth === 0) break;
  }
  return splitTopLevel(source.slice(open + 1, close)).map((param) => {
    const name = /^\s*(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(param);
    return name ? name[1] : null;
  });
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (list.trim() !== '') parts.push(list.slice(start));
  return parts;
}
