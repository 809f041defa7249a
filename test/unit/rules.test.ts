// Every gradient rule against central finite differences, on inputs with zeros and negatives.
import * as assert from 'assert';
import { GRADIENT_RULES } from '../../src/engine/autodiff/rules';
import { DataType, float, makeTensor } from '../../src/engine/onnx/proto';
import { Net, gradCheck } from './gradcheck';

type Case = [name: string, xShape: number[], build: (net: Net) => string, opset?: number];

const img = [2, 3, 6, 6];
const vec = [2, 6];

const cases: Case[] = [
  ['Identity', vec, (n) => n.b.op('Identity', ['x'])],
  ['Dropout', vec, (n) => n.b.op('Dropout', ['x'])],
  ['Flatten', img, (n) => n.b.op('Flatten', ['x'], { axis: 1 })],
  ['Reshape', img, (n) => n.b.op('Reshape', ['x', n.b.ints([0, 9, 12])])],
  ['Squeeze', [2, 3, 1, 4], (n) => n.b.op('Squeeze', ['x', n.b.ints([2])])],
  ['Unsqueeze', vec, (n) => n.b.op('Unsqueeze', ['x', n.b.ints([1, 3])])],
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
  ['Add', img, (n) => n.b.op('Add', ['x', n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 1 })])],
  ['Sub', img, (n) => n.b.op('Sub', [n.weight([6]), n.b.op('Sub', ['x', n.b.op('Sigmoid', [n.b.op('GlobalAveragePool', ['x'])])])])],
  ['Mul', img, (n) => n.b.op('Mul', ['x', n.b.op('Sigmoid', [n.b.op('GlobalAveragePool', ['x'])])])],
  ['Div', img, (n) => n.b.op('Div', ['x', n.b.op('Add', [n.b.op('Sigmoid', [n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 1 })]), n.b.scalar(0.5)])])],
  ['Mul (operand from a Constant node)', img, (n) => n.b.op('Mul', ['x', n.b.op('Constant', [], { value: makeTensor('c', [3, 1, 1], [0.5, -2, 0]) })])],
  ['PRelu (slope from a Constant node)', img, (n) => n.b.op('PRelu', ['x', n.b.op('Constant', [], { value: makeTensor('s', [3, 1, 1], [0.25, -0.5, 0]) })])],
  ['Sum', vec, (n) => n.b.op('Sum', ['x', n.b.op('Tanh', ['x']), n.weight([6])])],
  ['MatMul', [2, 3, 5], (n) => n.b.op('MatMul', [n.b.op('Tanh', ['x']), n.b.op('Transpose', ['x'], { perm: [0, 2, 1] })])],
  ['Gemm', vec, (n) => n.b.op('Gemm', ['x', n.weight([4, 6]), n.weight([4])], { alpha: float(0.7), beta: float(1.3), transB: 1 })],
  // Transposes keep the batch in dimension 0 of the checked output while exercising transA/transB.
  ['Gemm (transA, A on the path)', vec, (n) => n.b.op('Gemm', [n.b.op('Transpose', ['x']), n.weight([6, 4])], { transA: 1, alpha: float(1.5) })],
  ['Gemm (transA, B on the path)', vec, (n) => n.b.op('Transpose', [n.b.op('Gemm', [n.weight([6, 4]), n.b.op('Transpose', ['x'])], { transA: 1 })])],
  ['Gemm (transB, B on the path)', vec, (n) => n.b.op('Transpose', [n.b.op('Gemm', [n.weight([4, 6]), n.b.op('Tanh', ['x'])], { transB: 1, alpha: float(0.5) })])],
  ['Transpose', img, (n) => n.b.op('Transpose', ['x'], { perm: [0, 2, 3, 1] })],
  ['Concat', img, (n) => n.b.op('Concat', ['x', n.b.op('Tanh', ['x']), 'x'], { axis: 1 })],
  ['Split', img, (n) => n.b.op('Mul', n.b.node('Split', ['x', n.b.ints([1, 2])], { axis: 1 }, 2).reverse().map((t, i) => (i === 0 ? n.b.op('ReduceSum', [t, n.b.ints([1])], { keepdims: 1 }) : t)))],
  ['Slice', img, (n) => n.b.op('Slice', ['x', n.b.ints([1, -5]), n.b.ints([3, 100]), n.b.ints([1, 3])])],
  ['Slice (steps)', img, (n) => n.b.op('Slice', ['x', n.b.ints([5, 0]), n.b.ints([0, 6]), n.b.ints([2, 3]), n.b.ints([-2, 3])])],
  ['Pad', img, (n) => n.b.op('Pad', ['x', n.b.ints([0, 0, 1, 2, 0, 1, 0, 1])], { mode: 'constant' })],
  ['BatchNormalization', img, (n) => n.b.op('BatchNormalization', ['x', n.weight([3]), n.weight([3]), n.weight([3]), n.positive([3])], { epsilon: float(1e-3) })],
  ['BatchNormalization (2-D)', vec, (n) => n.b.op('BatchNormalization', ['x', n.weight([6]), n.weight([6]), n.weight([6]), n.positive([6])])],
  ['GlobalAveragePool', img, (n) => n.b.op('GlobalAveragePool', ['x'])],
  ['ReduceSum', img, (n) => n.b.op('ReduceSum', ['x', n.b.ints([2, -1])], { keepdims: 0 })],
  ['ReduceMean', img, (n) => n.b.op('ReduceMean', ['x', n.b.ints([1])], { keepdims: 0 })],
  ['ReduceL2', vec, (n) => n.b.op('ReduceL2', ['x', n.b.ints([1])], { keepdims: 1 })],
  ['AveragePool', img, (n) => n.b.op('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['AveragePool (count_include_pad, ceil)', [2, 2, 7, 7], (n) => n.b.op('AveragePool', ['x'], { kernel_shape: [2, 3], strides: [2, 2], pads: [0, 1, 0, 0], count_include_pad: 1, ceil_mode: 1 })],
  ['MaxPool (overlapping)', img, (n) => n.b.op('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv', img, (n) => n.b.op('Conv', ['x', n.weight([4, 3, 3, 3]), n.weight([4])], { pads: [1, 1, 1, 1] })],
  ['Conv (strided, asymmetric pads)', img, (n) => n.b.op('Conv', ['x', n.weight([4, 3, 3, 3])], { strides: [2, 2], pads: [0, 0, 1, 1] })],
  ['Conv (depthwise, stride 2)', img, (n) => n.b.op('Conv', ['x', n.weight([3, 1, 3, 3])], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv (grouped, dilated)', [2, 4, 7, 7], (n) => n.b.op('Conv', ['x', n.weight([6, 2, 3, 3])], { group: 2, dilations: [2, 2], pads: [2, 1, 1, 2] })],
  ['Conv (auto_pad SAME_UPPER, stride 2)', [2, 3, 7, 7], (n) => n.b.op('Conv', ['x', n.weight([2, 3, 4, 4])], { auto_pad: 'SAME_UPPER', strides: [2, 2] })],
  ['Conv (auto_pad SAME_LOWER)', img, (n) => n.b.op('Conv', ['x', n.weight([2, 3, 2, 2])], { auto_pad: 'SAME_LOWER' })],
  ['Conv (pad larger than kernel reach)', img, (n) => n.b.op('Conv', ['x', n.weight([2, 3, 1, 1])], { pads: [1, 0, 0, 1] })],
  ['Cast and Shape (non-differentiable paths)', img, (n) => n.b.op('Reshape', ['x', n.b.op('Concat', [n.b.op('Slice', [n.b.op('Shape', ['x']), n.b.ints([0]), n.b.ints([1])]), n.b.ints([-1])], { axis: 0 })])],
  ['Clip (opset 11, one bound)', img, (n) => n.b.op('Clip', ['x', '', n.b.scalar(0.3)]), 11],
  ['ReduceSum (opset 11, axes attribute)', img, (n) => n.b.op('ReduceSum', ['x'], { axes: [1, 3], keepdims: 1 }), 11],
];

describe('gradient rules match finite differences', () => {
  for (const [name, xShape, build, opset] of cases) {
    it(name, async () => {
      const net = new Net(xShape, opset);
      const report = await gradCheck(net, build(net));
      assert.ok(report.checked > 0);
    });
  }

  it('covers every rule in the table', () => {
    const tested = new Set(cases.map(([name]) => name.split(' ')[0]));
    const missing = Object.keys(GRADIENT_RULES).filter((op) => !tested.has(op));
    assert.deepStrictEqual(missing, []);
  });

  it('a Cast to float on the path is reported as unsupported with the op, node and supported set', async () => {
    const net = new Net(vec);
    const y = net.b.op('Cast', ['x'], { to: DataType.DOUBLE });
    await assert.rejects(gradCheck(net, net.b.op('Cast', [y], { to: DataType.FLOAT })), (e: Error) => {
      assert.match(e.message, /operator Cast \(node "net\/Cast_node_\d+"\) has no gradient rule; supported operators: Abs, Add, /);
      return true;
    });
  });
});
