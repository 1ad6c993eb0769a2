/** Shape rules of control flow: outputs take the dtype of the loop-carried (or branch) values. */
import { rules, type ShapeRule } from './context.ts';

export const controlShapeRules: ShapeRule[] = [
  ...rules(['Loop', 'If'], ({ node, inT, set }) => {
    for (let i = 0; i < node.outputs.length; i++) set(i, { dtype: inT(i + 2)?.dtype ?? 'float32' });
  }),
];
