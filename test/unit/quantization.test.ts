// quantizationKind on small graphs of each form onnxruntime's quantizer (and float16 exporters) write.
import * as assert from 'assert';
import { DataType, float, makeTensor } from '../../src/engine/onnx/proto';
import { isIntegerQuantized, quantizationKind } from '../../src/engine/quantization';
import { Net } from './gradcheck';

const img = [1, 3, 4, 4];

/** uint8 scale/zero-point initializers of a per-tensor quantization. */
function qParams(net: Net, scale: number, zeroPoint: number): [string, string] {
  return [net.b.initializer('scale', [], [scale]), net.b.initializer('zp', [], [zeroPoint], DataType.UINT8)];
}

describe('quantizationKind', () => {
  it('says none for a float32 model', () => {
    const net = new Net(img);
    const y = net.b.op('Conv', ['x', net.weight([2, 3, 1, 1])]);
    assert.strictEqual(quantizationKind(net.model(y)), 'none');
  });

  it('says QDQ for QuantizeLinear/DequantizeLinear around float operators', () => {
    const net = new Net(img);
    const [s, zp] = qParams(net, 0.02, 128);
    const xq = net.b.op('DequantizeLinear', [net.b.op('QuantizeLinear', ['x', s, zp]), s, zp]);
    const w = net.b.op('DequantizeLinear', [net.b.initializer('wq', [2, 3, 1, 1], [1, -2, 3, 4, 5, -6], DataType.INT8), net.b.scalar(0.1)]);
    assert.strictEqual(quantizationKind(net.model(net.b.op('Conv', [xq, w]))), 'QDQ');
  });

  it('says QOperator for QLinear operators, even with QuantizeLinear/DequantizeLinear at the edges', () => {
    const net = new Net(img);
    const [s, zp] = qParams(net, 0.02, 128);
    const wq = net.b.initializer('wq', [2, 3, 1, 1], [1, -2, 3, 4, 5, -6], DataType.INT8);
    const wzp = net.b.initializer('wzp', [], [0], DataType.INT8);
    const yq = net.b.op('QLinearConv', [net.b.op('QuantizeLinear', ['x', s, zp]), s, zp, wq, net.b.scalar(0.1), wzp, s, zp]);
    assert.strictEqual(quantizationKind(net.model(net.b.op('DequantizeLinear', [yq, s, zp]))), 'QOperator');
  });

  it('says QOperator for a com.microsoft QLinearAdd', () => {
    const net = new Net(img);
    const [s, zp] = qParams(net, 0.02, 128);
    const q = net.b.op('QuantizeLinear', ['x', s, zp]);
    const sum = net.b.op('QLinearAdd', [q, s, zp, q, s, zp, s, zp]);
    net.b.nodes.at(-1)!.domain = 'com.microsoft';
    assert.strictEqual(quantizationKind(net.model(net.b.op('DequantizeLinear', [sum, s, zp]))), 'QOperator');
  });

  it('says dynamic for DynamicQuantizeLinear with MatMulInteger and the Cast/Mul after it', () => {
    const net = new Net([1, 6]);
    const [xq, xs, xzp] = net.b.node('DynamicQuantizeLinear', ['x'], {}, 3);
    const wq = net.b.initializer('wq', [6, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], DataType.UINT8);
    const acc = net.b.op('MatMulInteger', [xq, wq, xzp]);
    const y = net.b.op('Mul', [net.b.op('Cast', [acc], { to: DataType.FLOAT }), net.b.op('Mul', [xs, net.b.scalar(0.01)])]);
    assert.strictEqual(quantizationKind(net.model(y)), 'dynamic');
  });

  it('says float16 for a Cast to float16 at the boundary, a float16 initializer or a float16 input', () => {
    const cast = new Net(img);
    const half = cast.b.op('Cast', ['x'], { to: DataType.FLOAT16 });
    assert.strictEqual(quantizationKind(cast.model(cast.b.op('Cast', [cast.b.op('Relu', [half])], { to: DataType.FLOAT }))), 'float16');

    const weights = new Net(img);
    weights.b.initializers.push({ name: 'w16', dims: [1], dataType: DataType.FLOAT16, rawData: Uint8Array.of(0, 0x3c) });
    assert.strictEqual(quantizationKind(weights.model(weights.b.op('Mul', ['x', weights.b.op('Cast', ['w16'], { to: DataType.FLOAT })]))), 'float16');

    const input = new Net(img);
    input.graph.input![0].type!.tensorType!.elemType = DataType.FLOAT16;
    assert.strictEqual(quantizationKind(input.model(input.b.op('Relu', ['x']))), 'float16');
  });

  it('does not count a float Cast or a LeakyRelu as quantization', () => {
    const net = new Net(img);
    const y = net.b.op('Cast', [net.b.op('LeakyRelu', ['x'], { alpha: float(0.1) })], { to: DataType.FLOAT });
    assert.strictEqual(quantizationKind(net.model(y)), 'none');
  });

  it('names the integer kinds, whose gradients are straight-through', () => {
    assert.deepStrictEqual(
      (['none', 'QDQ', 'QOperator', 'dynamic', 'float16'] as const).filter(isIntegerQuantized),
      ['QDQ', 'QOperator', 'dynamic'],
    );
  });
});

describe('makeTensor for quantized data', () => {
  it('writes int8, uint8 and int32 values and refuses ones out of range', () => {
    assert.deepStrictEqual([...makeTensor('a', [3], [-128, 0, 127], DataType.INT8).rawData!], [128, 0, 127]);
    assert.deepStrictEqual([...makeTensor('b', [2], [0, 255], DataType.UINT8).rawData!], [0, 255]);
    assert.deepStrictEqual([...makeTensor('c', [1], [-2], DataType.INT32).rawData!], [254, 255, 255, 255]);
    assert.throws(() => makeTensor('d', [1], [128], DataType.INT8), /out of range/);
    assert.throws(() => makeTensor('e', [1], [0.5], DataType.UINT8), /not an integer/);
  });
});
