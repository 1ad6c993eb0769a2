import type { GradientRule } from '../context.ts';
import { elementwiseRules } from './elementwise.ts';
import { nnRules } from './nn.ts';
import { shapeRules } from './shape.ts';

/** Every gradient rule, by op type: the one place where rules are registered. */
const RULES = new Map<string, GradientRule>();
for (const rule of [...elementwiseRules, ...shapeRules, ...nnRules]) {
  if (RULES.has(rule.op)) throw new Error(`two gradient rules for ${rule.op}`);
  RULES.set(rule.op, rule);
}

/**
 * Ops whose outputs carry no gradient (integer, boolean or shape results). Values computed by
 * them are constants as far as differentiation is concerned.
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'Range',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Not',
  'ArgMax',
  'ArgMin',
  'Sign',
  'Floor',
  'Ceil',
  'Round',
  'NonZero',
  'OneHot',
]);

/** A table of gradient rules by op type, as {@link appendGradients} takes it. */
export type GradientRules = ReadonlyMap<string, GradientRule>;

/** The registered rules (read-only). Copy it (`new Map(gradientRules())`) to swap a rule in tests. */
export function gradientRules(): GradientRules {
  return RULES;
}

export function gradientRule(op: string): GradientRule | undefined {
  return RULES.get(op);
}

/** Op types the autodiff can differentiate, sorted. */
export function supportedOps(): string[] {
  return [...RULES.keys()].sort();
}
