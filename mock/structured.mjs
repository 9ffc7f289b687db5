// Structured output: Gemini's answer to a request with `responseJsonSchema` / `responseSchema` follows the schema,
// whatever the prompt asked for, so a client whose schema and parser disagree breaks against the real API.

/** The response schema a request's `generationConfig` sends, in either form, or null. */
export function requestSchema(gc) {
  return gc?.responseJsonSchema ?? gc?._responseJsonSchema ?? gc?.responseSchema ?? null;
}

/**
 * The answer to `text/x.enum` with a schema listing string values: one of them, as plain text (the structured-output
 * guide's "Generating enum values"). The first value the prompt names, else the first listed; null otherwise.
 */
export function enumChoice(gc, prompt) {
  if (gc?.responseMimeType !== 'text/x.enum') return null;
  const values = requestSchema(gc)?.enum;
  if (!Array.isArray(values) || !values.length || !values.every((v) => typeof v === 'string')) return null;
  const p = prompt.toLowerCase();
  return values.find((v) => p.includes(v.toLowerCase())) ?? values[0];
}

/** The schema a request constrains its answer with, if any (JSON mode only). */
export function answerSchema(gc) {
  return gc?.responseMimeType === 'application/json' ? requestSchema(gc) : null;
}

// `responseSchema` (the Schema proto) writes types in capitals (`OBJECT`) and `nullable`; JSON Schema writes
// `object` and may list several types (`["string", "null"]`).
function typesOf(schema) {
  const t = schema.type;
  const list = t === undefined ? [] : (Array.isArray(t) ? t : [t]).map((x) => String(x).toLowerCase());
  if (schema.nullable === true && list.length) list.push('null');
  return list;
}

function typeOfValue(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

function accepts(types, v) {
  const t = typeOfValue(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function clamp(n, schema) {
  if (schema.minimum != null && n < Number(schema.minimum)) n = Number(schema.minimum);
  if (schema.maximum != null && n > Number(schema.maximum)) n = Number(schema.maximum);
  return n;
}

function propertyOrder(schema) {
  const props = Object.keys(schema.properties ?? {});
  const order = Array.isArray(schema.propertyOrdering) ? schema.propertyOrdering.filter((k) => props.includes(k)) : [];
  return [...order, ...props.filter((k) => !order.includes(k))];
}

/** The value Gemini writes for `schema` when the answer we had in mind has nothing that fits. */
export function instanceOf(schema) {
  if (!schema || typeof schema !== 'object') return null;
  if (Array.isArray(schema.anyOf) && schema.anyOf.length) return instanceOf(schema.anyOf[0]);
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  switch (typesOf(schema)[0]) {
    case 'object': {
      const out = {};
      for (const k of propertyOrder(schema)) out[k] = instanceOf(schema.properties[k]);
      return out;
    }
    case 'array':
      return Array.from({ length: Number(schema.minItems ?? 1) }, () => instanceOf(schema.items));
    case 'string': return 'mock text';
    case 'integer': return clamp(1, schema);
    case 'number': return clamp(1.5, schema);
    case 'boolean': return false;
    case 'null': return null;
    default: return {};
  }
}

/**
 * `value` made to follow `schema`: properties the schema does not name are left out and missing ones written,
 * in the schema's order; arrays hold between `minItems` and `maxItems` items; scalars take the schema's type,
 * enum and bounds. A value that already follows the schema comes back equal.
 */
export function conform(value, schema) {
  if (!schema || typeof schema !== 'object') return value;
  if (Array.isArray(schema.anyOf) && schema.anyOf.length) {
    const fit = schema.anyOf.find((s) => accepts(typesOf(s), value)) ?? schema.anyOf[0];
    return conform(value, fit);
  }
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum.includes(value) ? value : schema.enum[0];
  const types = typesOf(schema);
  if (!types.length) return value;
  if (!accepts(types, value)) {
    if (types.includes('integer') && typeof value === 'number' && Number.isFinite(value)) return Math.round(clamp(value, schema));
    if (types.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
    if ((types.includes('number') || types.includes('integer')) && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      return conform(Number(value), schema);
    }
    return instanceOf({ ...schema, type: types[0] });
  }
  switch (typeOfValue(value)) {
    case 'object': {
      if (!schema.properties) return value;
      const out = {};
      const required = new Set(Array.isArray(schema.required) ? schema.required : []);
      for (const k of propertyOrder(schema)) {
        if (Object.hasOwn(value, k)) out[k] = conform(value[k], schema.properties[k]);
        else if (required.has(k)) out[k] = instanceOf(schema.properties[k]);
      }
      return out;
    }
    case 'array': {
      let items = value.map((v) => conform(v, schema.items));
      if (schema.maxItems != null) items = items.slice(0, Number(schema.maxItems));
      while (schema.minItems != null && items.length < Number(schema.minItems)) items.push(instanceOf(schema.items));
      return items;
    }
    case 'integer':
    case 'number': {
      const n = clamp(value, schema);
      return types.includes('integer') && !types.includes('number') ? Math.round(n) : n;
    }
    default:
      return value;
  }
}
