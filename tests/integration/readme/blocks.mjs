// Reading README.md's examples: the fenced code blocks with their language, line and heading, the
// expectations their comments state, and the Roadmap type-shape pseudo-code as a checkable shape.
// Pure functions, no I/O: readme.test.mjs feeds them the README text.

/**
 * Every fenced block (``` or ~~~, any length >= 3) in document order:
 * { lang, code, line (1-based, the opening fence), heading (nearest heading above, markup stripped) }.
 */
export function fencedBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = lines[i].match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (h) {
      heading = h[1].replace(/`/g, '');
      continue;
    }
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].match(/^\s*(`{3,}|~{3,})\s*$/);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    if (j === lines.length) throw new Error(`README.md:${i + 1}: the code fence is never closed`);
    blocks.push({ lang: lang.toLowerCase(), code: body.join('\n'), line: i + 1, heading });
    i = j;
  }
  return blocks;
}

/** A JavaScript string, number or other literal as written in a comment (`'{"a": [1, 2]}'`, `12`). */
export function literal(text) {
  // eslint-disable-next-line no-new-func
  return new Function(`"use strict"; return (${text});`)();
}

/**
 * `expr;   // <expected literal> (trailing prose)` lines of a block whose comment starts with a string
 * literal: [{ expr, expected, line }]. This is how the README states what a call returns.
 */
export function commentedResults(code) {
  const out = [];
  code.split('\n').forEach((text, i) => {
    const m = text.match(/^\s*(.+?);\s*\/\/\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/);
    if (m) out.push({ expr: m[1], expected: literal(m[2]), line: i });
  });
  return out;
}

/**
 * The README's `Roadmap = { ... }` pseudo-code as a shape tree. Grammar (comments removed):
 *   object := '{' member (',' member)* ','? '}'
 *   member := name '?'? (':' type)?          (no type: any value)
 *   type   := '[' object ']' | object | name '[]' | name
 * Returns { kind: 'object', fields: Map(name -> { optional, type }) }.
 */
export function parseShape(code) {
  const src = code
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/^\s*\w+\s*=\s*/, '');
  const tokens = src.match(/[A-Za-z_$][\w$]*|\[\]|[{}[\]:,?]/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (want) => {
    const t = tokens[pos++];
    if (want !== undefined && t !== want) throw new Error(`shape: expected ${want} at token ${pos - 1}, got ${t}`);
    return t;
  };
  const object = () => {
    take('{');
    const fields = new Map();
    while (peek() !== '}') {
      const name = take();
      if (!/^[A-Za-z_$]/.test(name)) throw new Error(`shape: expected a field name, got ${name}`);
      let optional = false;
      if (peek() === '?') {
        take();
        optional = true;
      }
      let t = { kind: 'any' };
      if (peek() === ':') {
        take();
        t = type();
      }
      fields.set(name, { optional, type: t });
      if (peek() === ',') take();
    }
    take('}');
    return { kind: 'object', fields };
  };
  const type = () => {
    if (peek() === '[') {
      take('[');
      const item = object();
      take(']');
      return { kind: 'array', item };
    }
    if (peek() === '{') return object();
    const name = take();
    if (peek() === '[]') {
      take();
      return { kind: 'array', item: { kind: name } };
    }
    return { kind: name };
  };
  const shape = object();
  if (pos !== tokens.length) throw new Error(`shape: unexpected ${tokens[pos]} after the closing brace`);
  return shape;
}

/** Where `value` differs from `shape`: missing required fields, fields the shape does not list, wrong kinds. */
export function shapeMismatches(shape, value, path = 'roadmap') {
  const out = [];
  switch (shape.kind) {
    case 'any':
      break;
    case 'string':
    case 'number':
    case 'boolean':
      if (typeof value !== shape.kind) out.push(`${path}: expected a ${shape.kind}, got ${JSON.stringify(value)}`);
      break;
    case 'array':
      if (!Array.isArray(value)) out.push(`${path}: expected an array`);
      else value.forEach((v, i) => out.push(...shapeMismatches(shape.item, v, `${path}[${i}]`)));
      break;
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        out.push(`${path}: expected an object`);
        break;
      }
      for (const [name, { optional, type }] of shape.fields) {
        if (!(name in value) || value[name] === undefined) {
          if (!optional) out.push(`${path}.${name}: missing`);
        } else {
          out.push(...shapeMismatches(type, value[name], `${path}.${name}`));
        }
      }
      for (const name of Object.keys(value)) {
        if (!shape.fields.has(name)) out.push(`${path}.${name}: not in the README's shape`);
      }
      break;
    }
    default:
      out.push(`${path}: unknown type ${shape.kind} in the README's shape`);
  }
  return out;
}
