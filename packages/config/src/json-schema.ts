import { z } from 'zod';
import { configSchema } from './schema.ts';

/** A JSON Schema node, as much of it as this package reads. */
export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  oneOf?: JsonSchemaNode[];
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  [key: string]: unknown;
}

/** `$id` written into the JSON Schema file. */
export const CONFIG_SCHEMA_ID = 'https://enjambre.dev/schema/enjambre.schema.json';

let cached: JsonSchemaNode | undefined;

/**
 * The JSON Schema (draft 2020-12) of the config file, generated from the zod schema.
 * Editors use it for completion and checks; it is checked in at `packages/config/schema/enjambre.schema.json`.
 */
export function configJsonSchema(): JsonSchemaNode {
  if (cached === undefined) {
    const generated = z.toJSONSchema(configSchema, {
      io: 'input',
      target: 'draft-2020-12',
    }) as JsonSchemaNode;
    const { $schema, ...rest } = generated;
    cached = { $schema, $id: CONFIG_SCHEMA_ID, title: 'Enjambre node config', ...rest };
  }
  return structuredClone(cached);
}

/** The JSON Schema file's text (what `npm run schema` writes). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The discriminator key of a oneOf whose options all have a `const` property of the same name. */
export function discriminatorOf(options: JsonSchemaNode[]): string | undefined {
  const first = options[0]?.properties;
  if (first === undefined) return undefined;
  for (const key of Object.keys(first)) {
    if (options.every((o) => o.properties?.[key]?.const !== undefined)) return key;
  }
  return undefined;
}

/** Picks the variant of a oneOf matching the value's discriminator; undefined when none does. */
export function pickVariant(node: JsonSchemaNode, value: unknown): JsonSchemaNode | undefined {
  const options = node.oneOf ?? node.anyOf;
  if (options === undefined) return node;
  const disc = discriminatorOf(options);
  if (disc === undefined || !isRecord(value)) return undefined;
  // A value without the discriminator matches the variant that does not require it (data: {dataset}).
  return options.find((o) =>
    value[disc] === undefined ? !o.required?.includes(disc) : o.properties?.[disc]?.const === value[disc],
  );
}

/**
 * The schema node at a field path, choosing union variants by the discriminator found in `input`.
 * Undefined when the path leaves the schema.
 */
export function schemaAt(path: readonly (string | number)[], input: unknown): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = configJsonSchema();
  let value: unknown = input;
  for (const part of path) {
    node = node === undefined ? undefined : pickVariant(node, value);
    if (node === undefined) return undefined;
    if (typeof part === 'number') {
      node = node.items;
      value = Array.isArray(value) ? value[part] : undefined;
    } else {
      node = node.properties?.[part];
      value = isRecord(value) ? value[part] : undefined;
    }
  }
  return node === undefined ? undefined : pickVariant(node, value);
}
