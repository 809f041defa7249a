// Blocks of common face-recognition backbones, differentiated end to end and checked against
// finite differences.
import { float } from '../../src/engine/onnx/proto';
import { Net, gradCheck, vitEncoder } from './gradcheck';

/** BatchNormalization with random statistics. */
function bn(net: Net, x: string, channels: number): string {
  return net.b.op('BatchNormalization', [x, net.positive([channels]), net.weight([channels]), net.weight([channels]), net.positive([channels])]);
}

describe('composite blocks match finite differences end to end', () => {
  it('IResNet block (BN-Conv-BN-PReLU-Conv-BN + strided 1×1 downsample shortcut)', async () => {
    const net = new Net([2, 4, 6, 6]);
    const { b } = net;
    let y = bn(net, 'x', 4);
    y = b.op('Conv', [y, net.weight([6, 4, 3, 3], 0.3)], { pads: [1, 1, 1, 1] });
    y = b.op('PRelu', [bn(net, y, 6), net.weight([6, 1, 1])]);
    y = bn(net, b.op('Conv', [y, net.weight([6, 6, 3, 3], 0.3)], { strides: [2, 2], pads: [1, 1, 1, 1] }), 6);
    const shortcut = bn(net, b.op('Conv', ['x', net.weight([6, 4, 1, 1])], { strides: [2, 2] }), 6);
    const out = b.op('Add', [y, shortcut]);
    const flat = b.op('Flatten', [out], { axis: 1 });
    await gradCheck(net, bn(net, b.op('Gemm', [flat, net.weight([8, 54], 0.2)], { transB: 1 }), 8));
  });

  it('MobileFaceNet bottleneck (1×1 expand, depthwise stride 2 with asymmetric pads, linear 1×1, GDC head)', async () => {
    const net = new Net([2, 3, 8, 8]);
    const { b } = net;
    let y = b.op('PRelu', [b.op('Conv', ['x', net.weight([6, 3, 1, 1])]), net.weight([6, 1, 1])]);
    y = b.op('PRelu', [b.op('Conv', [y, net.weight([6, 1, 3, 3])], { group: 6, strides: [2, 2], pads: [0, 0, 1, 1] }), net.weight([6, 1, 1])]);
    y = b.op('Conv', [y, net.weight([4, 6, 1, 1])]);
    const inner = b.op('PRelu', [b.op('Conv', [y, net.weight([4, 1, 3, 3])], { group: 4, pads: [1, 1, 1, 1] }), net.weight([4, 1, 1])]);
    y = b.op('Add', [y, b.op('Conv', [inner, net.weight([4, 4, 1, 1])])]);
    y = b.op('Conv', [y, net.weight([4, 1, 4, 4])], { group: 4 }); // global depthwise conv
    await gradCheck(net, b.op('Flatten', [y], { axis: 1 }));
  });

  it('squeeze-and-excitation block (GlobalAveragePool, 1×1 convs, ReLU, HardSigmoid, broadcast Mul)', async () => {
    const net = new Net([2, 4, 5, 5]);
    const { b } = net;
    const squeezed = b.op('Relu', [b.op('Conv', [b.op('GlobalAveragePool', ['x']), net.weight([2, 4, 1, 1]), net.weight([2])])]);
    const gate = b.op('HardSigmoid', [b.op('Conv', [squeezed, net.weight([4, 2, 1, 1]), net.weight([4])])], { alpha: float(1 / 6), beta: float(0.5) });
    const y = b.op('Mul', ['x', gate]);
    await gradCheck(net, b.op('ReduceMean', [b.op('HardSwish', [y]), b.ints([3])], { keepdims: 0 }));
  });

  it('Inception-style block (parallel 1×1, 3×3, 5×5 and max-pool branches, Concat, average pool)', async () => {
    const net = new Net([2, 3, 7, 7]);
    const { b } = net;
    const branch1 = b.op('Relu', [b.op('Conv', ['x', net.weight([2, 3, 1, 1])])]);
    const branch3 = b.op('Relu', [b.op('Conv', [b.op('Conv', ['x', net.weight([2, 3, 1, 1])]), net.weight([3, 2, 3, 3], 0.3)], { pads: [1, 1, 1, 1] })]);
    const branch5 = b.op('Relu', [b.op('Conv', ['x', net.weight([2, 3, 5, 5], 0.2)], { pads: [2, 2, 2, 2] })]);
    const pool = b.op('Conv', [b.op('MaxPool', ['x'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), net.weight([2, 3, 1, 1])]);
    const cat = b.op('Concat', [branch1, branch3, branch5, pool], { axis: 1 });
    const avg = b.op('AveragePool', [cat], { kernel_shape: [3, 3], strides: [2, 2] });
    const flat = b.op('Flatten', [avg], { axis: 1 });
    await gradCheck(net, b.op('Tanh', [b.op('MatMul', [flat, net.weight([81, 6], 0.2)])]));
  });

  it('ViT encoder block (patch embedding, class token, LayerNorm, self-attention, Erf GELU MLP, class-token embedding)', async () => {
    const net = new Net([2, 3, 4, 4], 17);
    await gradCheck(net, vitEncoder(net, 0));
  });
});
