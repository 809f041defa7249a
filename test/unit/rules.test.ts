// Every gradient rule against central finite differences, on inputs with zeros and negatives.
import * as assert from 'assert';
import { SUPPORTED_OPS, UnsupportedGradientError } from '../../src/engine/autodiff/rules';
import { DataType, float, makeTensor } from '../../src/engine/onnx/proto';
import { type RuleCase as Case, Net, gradCheck } from './gradcheck';
import { quantizedCases } from './quantizedCases';

const img = [2, 3, 6, 6];
const vec = [2, 6];
const tokens = [2, 5, 4];

const cases: Case[] = [
  ['Identity', vec, (n) => n.b.op('Identity', ['x'])],
  ['Dropout', vec, (n) => n.b.op('Dropout', ['x'])],
  ['Flatten', img, (n) => n.b.op('Flatten', ['x'], { axis: 1 })],
  ['Reshape', img, (n) => n.b.op('Reshape', ['x', n.b.ints([0, 9, 12])])],
  ['Squeeze', [2, 3, 1, 4], (n) => n.b.op('Squeeze', ['x', n.b.ints([2])])],
  ['Unsqueeze', vec, (n) => n.b.op('Unsqueeze', ['x', n.b.ints([1, 3])])],
  ['Cast (to int64: no gradient through the rounding)', vec, (n) => n.b.op('Add', [n.b.op('Tanh', ['x']), n.b.op('Cast', [n.b.op('Cast', [n.b.op('Mul', ['x', n.b.scalar(3)])], { to: DataType.INT64 })], { to: DataType.FLOAT })])],
  ['Neg', vec, (n) => n.b.op('Neg', ['x'])],
  ['Abs', img, (n) => n.b.op('Abs', ['x'])],
  ['Relu', img, (n) => n.b.op('Relu', ['x'])],
  ['LeakyRelu', img, (n) => n.b.op('LeakyRelu', ['x'], { alpha: float(0.1) })],
  ['PRelu', img, (n) => n.b.op('PRelu', ['x', n.weight([3, 1, 1])])],
  ['Sigmoid', img, (n) => n.b.op('Sigmoid', ['x'])],
  ['Tanh', img, (n) => n.b.op('Tanh', ['x'])],
  ['HardSigmoid', img, (n) => n.b.op('HardSigmoid', ['x'], { alpha: float(0.4), beta: float(0.3) })],
  ['HardSwish', img, (n) => n.b.op('HardSwish', [n.b.op('Mul', ['x', n.b.scalar(4)])])],
  ['Clip', img, (n) => n.b.op('Clip', ['x', n.b.scalar(-0.5), n.b.scalar(0.6)])],
  ['Sqrt', vec, (n) => n.b.op('Sqrt', [n.b.op('Add', [n.b.op('Abs', ['x']), n.b.scalar(0.5)])])],
  ['Exp', img, (n) => n.b.op('Exp', [n.b.op('Mul', ['x', n.b.scalar(2)])])],
  ['Log', img, (n) => n.b.op('Log', [n.b.op('Sigmoid', [n.b.op('Mul', ['x', n.b.scalar(3)])])])],
  ['Reciprocal', img, (n) => n.b.op('Reciprocal', [n.b.op('Sigmoid', [n.b.op('Mul', ['x', n.b.scalar(2)])])])],
  ['Erf', img, (n) => n.b.op('Erf', [n.b.op('Mul', ['x', n.b.scalar(2)])])],
  ['Gelu', img, (n) => n.b.op('Gelu', [n.b.op('Mul', ['x', n.b.scalar(3)])]), 20],
  ['Gelu (approximate tanh)', img, (n) => n.b.op('Gelu', [n.b.op('Mul', ['x', n.b.scalar(3)])], { approximate: 'tanh' }), 20],
  // A square with a scalar exponent.
  ['Pow', img, (n) => n.b.op('Pow', ['x', n.b.scalar(2)])],
  ['Pow (int64 exponent from a Constant node, broadcast over the base)', [2, 1, 6], (n) => n.b.op('Pow', [n.b.op('Mul', ['x', n.b.scalar(2)]), n.b.op('Constant', [], { value: makeTensor('p', [3, 1], [3, 1, 0], DataType.INT64) })])],
  ['Pow (fractional and negative exponents)', img, (n) => n.b.op('Pow', [n.b.op('Sigmoid', ['x']), n.weight([3, 1, 1], 2)])],
  ['Add', img, (n) => n.b.op('Add', ['x', n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 1 })])],
  ['Sub', img, (n) => n.b.op('Sub', [n.weight([6]), n.b.op('Sub', ['x', n.b.op('Sigmoid', [n.b.op('GlobalAveragePool', ['x'])])])])],
  ['Mul', img, (n) => n.b.op('Mul', ['x', n.b.op('Sigmoid', [n.b.op('GlobalAveragePool', ['x'])])])],
  ['Div', img, (n) => n.b.op('Div', ['x', n.b.op('Add', [n.b.op('Sigmoid', [n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 1 })]), n.b.scalar(0.5)])])],
  ['Mul (operand from a Constant node)', img, (n) => n.b.op('Mul', ['x', n.b.op('Constant', [], { value: makeTensor('c', [3, 1, 1], [0.5, -2, 0]) })])],
  ['PRelu (slope from a Constant node)', img, (n) => n.b.op('PRelu', ['x', n.b.op('Constant', [], { value: makeTensor('s', [3, 1, 1], [0.25, -0.5, 0]) })])],
  ['Max', img, (n) => n.b.op('Max', ['x', n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 1 })])],
  // The constant is the first input; x = 0 ties with it: a kink, where finite differences accept either one-sided slope.
  ['Min', img, (n) => n.b.op('Min', [n.b.scalar(0), n.b.op('Mul', ['x', n.weight([3, 1, 1])])])],
  ['Sum', vec, (n) => n.b.op('Sum', ['x', n.b.op('Tanh', ['x']), n.weight([6])])],
  ['MatMul', [2, 3, 5], (n) => n.b.op('MatMul', [n.b.op('Tanh', ['x']), n.b.op('Transpose', ['x'], { perm: [0, 2, 1] })])],
  ['Gemm', vec, (n) => n.b.op('Gemm', ['x', n.weight([4, 6]), n.weight([4])], { alpha: float(0.7), beta: float(1.3), transB: 1 })],
  // Transposes keep the batch in dimension 0 of the checked output while exercising transA/transB.
  ['Gemm (transA, A on the path)', vec, (n) => n.b.op('Gemm', [n.b.op('Transpose', ['x']), n.weight([6, 4])], { transA: 1, alpha: float(1.5) })],
  ['Gemm (transA, B on the path)', vec, (n) => n.b.op('Transpose', [n.b.op('Gemm', [n.weight([6, 4]), n.b.op('Transpose', ['x'])], { transA: 1 })])],
  ['Gemm (transB, B on the path)', vec, (n) => n.b.op('Transpose', [n.b.op('Gemm', [n.weight([4, 6]), n.b.op('Tanh', ['x'])], { transB: 1, alpha: float(0.5) })])],
  ['Transpose', img, (n) => n.b.op('Transpose', ['x'], { perm: [0, 2, 3, 1] })],
  ['Expand', [2, 1, 6], (n) => n.b.op('Expand', ['x', n.b.ints([1, 3, 1])])],
  ['Concat', img, (n) => n.b.op('Concat', ['x', n.b.op('Tanh', ['x']), 'x'], { axis: 1 })],
  ['Split', img, (n) => n.b.op('Mul', n.b.node('Split', ['x', n.b.ints([1, 2])], { axis: 1 }, 2).reverse().map((t, i) => (i === 0 ? n.b.op('ReduceSum', [t, n.b.ints([1])], { keepdims: 1 }) : t)))],
  ['Slice', img, (n) => n.b.op('Slice', ['x', n.b.ints([1, -5]), n.b.ints([3, 100]), n.b.ints([1, 3])])],
  ['Slice (steps)', img, (n) => n.b.op('Slice', ['x', n.b.ints([5, 0]), n.b.ints([0, 6]), n.b.ints([2, 3]), n.b.ints([-2, 3])])],
  // The class token: a scalar index on axis 1.
  ['Gather', tokens, (n) => n.b.op('Gather', ['x', n.b.initializer('i', [], [0], DataType.INT64)], { axis: 1 })],
  ['Gather (2-D indices, repeated and negative, axis −1)', tokens, (n) => n.b.op('Gather', ['x', n.b.op('Constant', [], { value: makeTensor('i', [2, 2], [3, -1, 0, 3], DataType.INT64) })], { axis: -1 })],
  ['Pad', img, (n) => n.b.op('Pad', ['x', n.b.ints([0, 0, 1, 2, 0, 1, 0, 1])], { mode: 'constant' })],
  ['BatchNormalization', img, (n) => n.b.op('BatchNormalization', ['x', n.weight([3]), n.weight([3]), n.weight([3]), n.positive([3])], { epsilon: float(1e-3) })],
  ['BatchNormalization (2-D)', vec, (n) => n.b.op('BatchNormalization', ['x', n.weight([6]), n.weight([6]), n.weight([6]), n.positive([6])])],
  ['LayerNormalization', tokens, (n) => n.b.op('LayerNormalization', ['x', n.weight([4]), n.weight([4])], { epsilon: float(1e-3) }), 17],
  ['LayerNormalization (axis 1, no bias)', img, (n) => n.b.op('LayerNormalization', ['x', n.weight([3, 6, 6])], { axis: 1 }), 17],
  ['LayerNormalization (axis −2)', tokens, (n) => n.b.op('LayerNormalization', ['x', n.weight([5, 4]), n.weight([5, 4])], { axis: -2 }), 17],
  ['GlobalAveragePool', img, (n) => n.b.op('GlobalAveragePool', ['x'])],
  ['ReduceSum', img, (n) => n.b.op('ReduceSum', ['x', n.b.ints([2, -1])], { keepdims: 0 })],
  ['ReduceMean', img, (n) => n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 0 })],
  ['ReduceL2', vec, (n) => n.b.op('ReduceL2', ['x', n.b.ints([1])], { keepdims: 1 })],
  ['Softmax', img, (n) => n.b.op('Softmax', [n.b.op('Mul', ['x', n.b.scalar(3)])], { axis: 1 })],
  ['Softmax (default axis −1)', tokens, (n) => n.b.op('Softmax', [n.b.op('Mul', ['x', n.b.scalar(3)])])],
  ['AveragePool', img, (n) => n.b.op('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['AveragePool (count_include_pad, ceil)', [2, 2, 7, 7], (n) => n.b.op('AveragePool', ['x'], { kernel_shape: [2, 3], strides: [2, 2], pads: [0, 1, 0, 0], count_include_pad: 1, ceil_mode: 1 })],
  // Overlapping windows.
  ['MaxPool', img, (n) => n.b.op('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv', img, (n) => n.b.op('Conv', ['x', n.weight([4, 3, 3, 3]), n.weight([4])], { pads: [1, 1, 1, 1] })],
  ['Conv (strided, asymmetric pads)', img, (n) => n.b.op('Conv', ['x', n.weight([4, 3, 3, 3])], { strides: [2, 2], pads: [0, 0, 1, 1] })],
  ['Conv (depthwise, stride 2)', img, (n) => n.b.op('Conv', ['x', n.weight([3, 1, 3, 3])], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv (grouped, dilated)', [2, 4, 7, 7], (n) => n.b.op('Conv', ['x', n.weight([6, 2, 3, 3])], { group: 2, dilations: [2, 2], pads: [2, 1, 1, 2] })],
  ['Conv (auto_pad SAME_UPPER, stride 2)', [2, 3, 7, 7], (n) => n.b.op('Conv', ['x', n.weight([2, 3, 4, 4])], { auto_pad: 'SAME_UPPER', strides: [2, 2] })],
  ['Conv (auto_pad SAME_LOWER)', img, (n) => n.b.op('Conv', ['x', n.weight([2, 3, 2, 2])], { auto_pad: 'SAME_LOWER' })],
  ['Conv (pad larger than kernel reach)', img, (n) => n.b.op('Conv', ['x', n.weight([2, 3, 1, 1])], { pads: [1, 0, 0, 1] })],
  ['Reshape (target computed from the input by Shape, Slice and Concat, which get no gradient)', img, (n) => n.b.op('Reshape', ['x', n.b.op('Concat', [n.b.op('Slice', [n.b.op('Shape', ['x']), n.b.ints([0]), n.b.ints([1])]), n.b.ints([-1])], { axis: 0 })])],
  ['Clip (opset 11, one bound)', img, (n) => n.b.op('Clip', ['x', '', n.b.scalar(0.3)]), 11],
  ['ReduceSum (opset 11, axes attribute)', img, (n) => n.b.op('ReduceSum', ['x'], { axes: [1, 3], keepdims: 1 }), 11],
  // Before opset 13 Softmax normalizes over all axes from `axis` on.
  ['Softmax (opset 11, coerced to 2-D at axis 2)', img, (n) => n.b.op('Softmax', [n.b.op('Mul', ['x', n.b.scalar(3)])], { axis: 2 }), 11],
  ...quantizedCases,
];

const refusals: [name: string, xShape: number[], build: (net: Net) => string, message: RegExp, opset?: number][] = [
  ['Pow with the exponent on the path', vec, (n) => n.b.op('Pow', [n.b.op('Sigmoid', ['x']), 'x']), /^Pow node "net\/Pow_node_\d+": gradients with respect to the exponent are not supported$/],
  [
    'LayerNormalization with the scale on the path',
    tokens,
    (n) => n.b.op('LayerNormalization', ['x', n.b.op('ReduceSum', ['x', n.b.ints([0, 1])], { keepdims: 0 })]),
    /^LayerNormalization node "net\/LayerNormalization_node_\d+": gradients with respect to the scale and bias are not supported$/,
    17,
  ],
  [
    'Gather with indices computed at run time',
    tokens,
    (n) => n.b.op('Gather', ['x', n.b.op('ArgMax', [n.b.op('ReduceSum', ['x', n.b.ints([2])], { keepdims: 0 })], { axis: 1, keepdims: 0 })], { axis: 1 }),
    /^Gather node "net\/Gather_node_\d+": indices computed at run time are not supported$/,
  ],
];

describe('gradient rules match finite differences', () => {
  for (const [name, xShape, build, opset, options] of cases) {
    it(name, async () => {
      const net = new Net(xShape, opset);
      const report = await gradCheck(net, build(net), options);
      assert.ok(report.checked > 0);
    });
  }

  it('covers every rule in the table: a case named exactly after each op, variants named "Op (what differs)"', () => {
    const names = cases.map(([name]) => name);
    assert.deepStrictEqual(SUPPORTED_OPS.filter((op) => !names.includes(op)), []);
    assert.deepStrictEqual(names.filter((name) => !SUPPORTED_OPS.some((op) => name === op || name.startsWith(`${op} (`))), []);
  });

  for (const [name, xShape, build, message, opset] of refusals) {
    it(`${name} is refused`, async () => {
      const net = new Net(xShape, opset);
      await assert.rejects(gradCheck(net, build(net)), (e: Error) => {
        assert.ok(e instanceof UnsupportedGradientError, e.message);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it('an op without a rule on the path is reported as unsupported with the op, node and supported set', async () => {
    const net = new Net(vec);
    const y = net.b.op('Cos', ['x']);
    await assert.rejects(gradCheck(net, net.b.op('Cos', [y])), (e: Error) => {
      assert.match(e.message, /Cos \(2 nodes, e\.g\. "net\/Cos_node_\d+"\); supported operators: Abs, Add, /);
      return true;
    });
  });
});
