import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText, defaultsDoc } from '../src/index.ts';

const PKG = path.resolve(import.meta.dirname, '..');

describe('generated files are up to date', () => {
  it('schema/enjambre.schema.json equals the generated JSON Schema (npm run schema -w @enjambre/config)', () => {
    const checkedIn = readFileSync(path.join(PKG, 'schema/enjambre.schema.json'), 'utf8');
    expect(checkedIn).toBe(configJsonSchemaText());
  });

  it('docs/config-reference.md equals the generated reference (npm run docs -w @enjambre/config)', () => {
    const checkedIn = readFileSync(path.resolve(PKG, '../../docs/config-reference.md'), 'utf8');
    expect(checkedIn).toBe(defaultsDoc());
  });
});

describe('JSON Schema', () => {
  const schema = configJsonSchema();

  it('is strict and requires model and data', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['model', 'data']);
  });

  it('documents every field, with defaults', () => {
    const undocumented: string[] = [];
    const walk = (node: ReturnType<typeof configJsonSchema>, at: string) => {
      for (const option of node.oneOf ?? node.anyOf ?? []) walk(option, at);
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undocumented.push(`${at}${key}`);
        else if (
          child.type !== 'object' &&
          !child.oneOf &&
          !/Default|Required/.test(child.description) &&
          key !== 'kind' &&
          key !== 'format'
        ) {
          undocumented.push(`${at}${key} (no default stated)`);
        }
        walk(child, `${at}${key}.`);
      }
    };
    walk(schema, '');
    expect(undocumented).toEqual([]);
  });

  it('uses oneOf with a const discriminator for model and data', () => {
    const kinds = schema.properties?.model.oneOf?.map((o) => o.properties?.kind.const);
    expect(kinds).toEqual(['mlp', 'cnn', 'char-transformer', 'onnx']);
    const formats = schema.properties?.data.oneOf?.map((o) => o.properties?.format.const);
    expect(formats).toEqual(['text', 'mnist', 'csv', 'synthetic', 'dataset']);
  });
});

describe('markdown reference', () => {
  const doc = defaultsDoc();
  it('has a section per config section and variant', () => {
    for (const heading of [
      '## `node`',
      '## `hardware`',
      '### `model` (kind: char-transformer)',
      '### `data` (format: csv)',
      '### `training.optimizer`',
      '### `swarm.averaging`',
      '## `metrics`',
    ]) {
      expect(doc).toContain(heading);
    }
    expect(doc).toContain(
      '| `heads` | integer ≥ 1 | Attention heads per block; must divide width. Default: 4. |',
    );
    expect(doc).toContain('| `prometheusPort` | integer in [1, 65535] |');
  });
});
