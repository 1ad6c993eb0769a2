import type { ShapeRule } from './context.ts';
import { controlShapeRules } from './control.ts';
import { elementwiseShapeRules } from './elementwise.ts';
import { nnShapeRules } from './nn.ts';
import { shapeShapeRules } from './shape.ts';

/** Every shape rule, by op type: the one place where rules are registered. */
const RULES = new Map<string, ShapeRule>();
for (const rule of [...elementwiseShapeRules, ...shapeShapeRules, ...nnShapeRules, ...controlShapeRules]) {
  if (RULES.has(rule.op)) throw new Error(`two shape rules for ${rule.op}`);
  RULES.set(rule.op, rule);
}

export function shapeRule(op: string): ShapeRule | undefined {
  return RULES.get(op);
}
