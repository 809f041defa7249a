// Small face-recognition test models (an image in, an embedding out), written with a card into a
// folder: fast enough for a software Vulkan device, and built like the real backbones.
import * as fs from 'fs';
import * as path from 'path';
import { buildIResNetOf } from '../../models/build/iresnet';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { ENGINE_OPSET, type Graph, encodeModel, floatValueInfo, makeModel } from '../../src/engine/onnx/proto';
import { Random } from '../../src/engine/random';

export const TEST_SIZE = 32;

/** An IResNet of two stages (8 and 16 channels), 32×32 in, 32-d out. */
export function smallIResNet(): Uint8Array {
  return buildIResNetOf('small-iresnet', { layers: [1, 2], width: 8, size: TEST_SIZE, embedding: 32 }, 7);
}

/**
 * MobileFaceNet's parts: a strided 3×3 stem with PReLU, a bottleneck (1×1 expand, depthwise 3×3
 * with asymmetric pads and stride 2, linear 1×1) and a residual one, a global depthwise conv (GDC)
 * head, and a linear 32-d embedding. 32×32 in.
 */
export function smallMobileFaceNet(seed = 5): Uint8Array {
  const graph: Graph = { name: 'small-mobilefacenet', node: [], initializer: [], input: [floatValueInfo('input', ['N', 3, TEST_SIZE, TEST_SIZE])], output: [] };
  const b = new GraphBuilder(graph, ENGINE_OPSET, 'mfn');
  const random = new Random(seed);
  const w = (dims: number[], fanIn: number) => b.initializer('w', dims, Float32Array.from({ length: dims.reduce((a, c) => a * c, 1) }, () => random.normal() * Math.sqrt(1 / fanIn)));
  const prelu = (x: string, c: number) => b.op('PRelu', [x, b.initializer('prelu', [c, 1, 1], Float32Array.from({ length: c }, () => 0.1 + 0.2 * random.next()))]);
  const conv = (x: string, cin: number, cout: number, k: number, o: { stride?: number; group?: number; pads?: number[] } = {}) =>
    b.op('Conv', [x, w([cout, cin / (o.group ?? 1), k, k], (cin / (o.group ?? 1)) * k * k), w([cout], 16)], {
      kernel_shape: [k, k],
      strides: [o.stride ?? 1, o.stride ?? 1],
      group: o.group ?? 1,
      pads: o.pads ?? [0, 0, 0, 0],
    });

  let x = prelu(conv('input', 3, 8, 3, { stride: 2, pads: [0, 0, 1, 1] }), 8); // 16×16
  // Bottleneck with stride 2 (TensorFlow's SAME padding: the extra pixel at the bottom right).
  let y = prelu(conv(x, 8, 16, 1), 16);
  y = prelu(conv(y, 16, 16, 3, { stride: 2, group: 16, pads: [0, 0, 1, 1] }), 16); // 8×8
  x = conv(y, 16, 12, 1);
  // Residual bottleneck.
  y = prelu(conv(x, 12, 24, 1), 24);
  y = prelu(conv(y, 24, 24, 3, { group: 24, pads: [1, 1, 1, 1] }), 24);
  x = b.op('Add', [x, conv(y, 24, 12, 1)]);
  x = prelu(conv(x, 12, 32, 1), 32);
  x = conv(x, 32, 32, 8, { group: 32 }); // GDC: 8×8 depthwise to 1×1
  x = b.op('Flatten', [x], { axis: 1 });
  x = b.op('Gemm', [x, w([32, 32], 32), w([32], 32)], { transB: 1 });
  graph.node!.push({ opType: 'Identity', name: 'embedding_out', input: [x], output: ['embedding'] });
  graph.output = [floatValueInfo('embedding', ['N', 32])];
  return encodeModel(makeModel(graph));
}

/**
 * Resize with antialias (then Flatten): onnxruntime's CPU kernel computes it, its WebGPU kernel
 * loads and then refuses it when the graph runs ("antialias … NOT implemented").
 */
export function antialiasResizeModel(): Uint8Array {
  const graph: Graph = { name: 'antialias-resize', node: [], initializer: [], input: [floatValueInfo('input', ['N', 3, TEST_SIZE, TEST_SIZE])], output: [] };
  const b = new GraphBuilder(graph, ENGINE_OPSET, 'aa');
  const half = b.initializer('scales', [4], [1, 1, 0.5, 0.5]);
  const small = b.op('Resize', ['input', '', half], { mode: 'linear', antialias: 1 });
  graph.node!.push({ opType: 'Flatten', name: 'embedding_out', input: [small], output: ['embedding'], attribute: [] });
  graph.output = [floatValueInfo('embedding', ['N', 3 * (TEST_SIZE / 2) ** 2])];
  return encodeModel(makeModel(graph));
}

/** Writes a model and its card (by default: the graph names above, ArcFace's preprocessing, a nominal threshold) into `dir`. */
export function writeTestModel(dir: string, name: string, bytes: Uint8Array, card: object = { name, input: 'input', output: 'embedding', channelOrder: 'RGB', mean: 127.5, std: 127.5, threshold: 0.3 }): string {
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, bytes);
  fs.writeFileSync(file.replace(/\.onnx$/, '.card.json'), JSON.stringify(card));
  return file;
}

/** N faces of random values in [−1, 1) (preprocessed data), C×size×size each. */
export function randomFaces(n: number, size: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: n * 3 * size * size }, () => 2 * random.next() - 1);
}
