// Writes IResNet-50 / IResNet-100 ONNX models with the ArcFace/ElasticFace architecture
// (insightface's iresnet: 112×112 input, 512-d output) and seeded random weights. They exist
// only to measure speed and memory: speed does not depend on the weights.
//
//   npx tsx models/build/iresnet.ts iresnet100 OUT.onnx
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { writeFileAtomic } from '../../src/engine/files';
import { ENGINE_OPSET, type Graph, encodeModel, float, floatValueInfo, makeModel } from '../../src/engine/onnx/proto';
import { Random } from '../../src/engine/random';

export const IRESNET_LAYERS = {
  iresnet50: [3, 4, 14, 3],
  iresnet100: [3, 13, 30, 3],
} as const;
export type IResNetName = keyof typeof IRESNET_LAYERS;

/** The shape of an IResNet: blocks per stage, the first stage's width (doubled at each stage), input side, embedding size. */
export interface IResNetShape {
  layers: readonly number[];
  width: number;
  size: number;
  embedding: number;
}

export function buildIResNet(name: IResNetName, seed = 1): Uint8Array {
  return buildIResNetOf(name, { layers: IRESNET_LAYERS[name], width: 64, size: 112, embedding: 512 }, seed);
}

/** An IResNet of any shape (a small one is a test model); every stage halves the input side. */
export function buildIResNetOf(name: string, shape: IResNetShape, seed = 1): Uint8Array {
  const { layers, width, size, embedding } = shape;
  const graph: Graph = { name, node: [], initializer: [], input: [floatValueInfo('input', ['N', 3, size, size])], output: [] };
  const b = new GraphBuilder(graph, ENGINE_OPSET, name);
  const random = new Random(seed);
  const values = (n: number, std: number, mean = 0) => Float32Array.from({ length: n }, () => mean + std * random.normal());

  // He initialisation, halved so that activations stay finite through 100 layers of random weights.
  const conv = (x: string, cin: number, cout: number, k: number, stride: number) => {
    const w = b.initializer('conv_w', [cout, cin, k, k], values(cout * cin * k * k, 0.5 * Math.sqrt(2 / (cin * k * k))));
    const p = (k - 1) / 2;
    return b.op('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [p, p, p, p] });
  };
  const bn = (x: string, c: number, scale = 1) =>
    b.op('BatchNormalization', [x, b.initializer('bn_scale', [c], values(c, 0.05, scale)), b.initializer('bn_bias', [c], values(c, 0.05)), b.initializer('bn_mean', [c], values(c, 0.05)), b.initializer('bn_var', [c], values(c, 0.05, 1).map(Math.abs))], { epsilon: float(1e-5) });
  const prelu = (x: string, c: number) => b.op('PRelu', [x, b.initializer('prelu', [c, 1, 1], new Float32Array(c).fill(0.25))]);

  // IBasicBlock: BN → conv3×3 → BN → PReLU → conv3×3 (stride) → BN, plus identity or 1×1 conv + BN.
  const block = (x: string, cin: number, cout: number, stride: number) => {
    let y = conv(bn(x, cin), cin, cout, 3, 1);
    y = conv(prelu(bn(y, cout), cout), cout, cout, 3, stride);
    y = bn(y, cout, 0.2);
    const shortcut = stride !== 1 || cin !== cout ? bn(conv(x, cin, cout, 1, stride), cout) : x;
    return b.op('Add', [y, shortcut]);
  };

  let x = prelu(bn(conv('input', 3, width, 3, 1), width), width);
  let channels = width;
  let side = size;
  layers.forEach((blocks, stage) => {
    const planes = width << stage;
    for (let i = 0; i < blocks; i++) {
      x = block(x, channels, planes, i === 0 ? 2 : 1);
      channels = planes;
    }
    side = Math.ceil(side / 2);
  });
  x = b.op('Flatten', [bn(x, channels)], { axis: 1 });
  const inputs = channels * side * side;
  const fc = b.initializer('fc_w', [embedding, inputs], values(embedding * inputs, Math.sqrt(1 / inputs)));
  x = b.op('Gemm', [x, fc, b.initializer('fc_b', [embedding], new Float32Array(embedding))], { transB: 1 });
  // features: BatchNorm1d with its weight fixed to 1, as in arcface_torch.
  const ones = new Float32Array(embedding).fill(1);
  const zeros = new Float32Array(embedding);
  const features = b.op('BatchNormalization', [x, b.initializer('f_scale', [embedding], ones), b.initializer('f_bias', [embedding], zeros), b.initializer('f_mean', [embedding], zeros), b.initializer('f_var', [embedding], ones)], { epsilon: float(1e-5) });
  graph.node!.push({ opType: 'Identity', name: 'embedding_out', input: [features], output: ['embedding'] });
  graph.output = [floatValueInfo('embedding', ['N', embedding])];
  return encodeModel(makeModel(graph));
}

/** Writes the model and a card (ArcFace preprocessing; a nominal threshold, as the weights are random). */
export function writeIResNet(name: IResNetName, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, Buffer.from(buildIResNet(name)));
  const card = { name: `${name} (random weights, for benchmarks only)`, input: 'input', output: 'embedding', channelOrder: 'RGB', mean: 127.5, std: 127.5, threshold: 0.3 };
  fs.writeFileSync(file.replace(/\.onnx$/, '.card.json'), JSON.stringify(card, null, 2) + '\n');
}

/** A model file path, or the name of a benchmark backbone, generated once into the user's cache. */
export function resolveModel(nameOrPath: string): string {
  if (!(nameOrPath in IRESNET_LAYERS)) return nameOrPath;
  const file = path.join(os.homedir(), '.cache', 'xssab', 'models', `${nameOrPath}.onnx`);
  if (!fs.existsSync(file)) writeIResNet(nameOrPath as IResNetName, file);
  return file;
}

// Run as a script, not when bundled into the benchmark.
if (require.main === module && /iresnet\.ts$/.test(process.argv[1] ?? '')) {
  const [name, out] = process.argv.slice(2);
  if (!(name in IRESNET_LAYERS) || !out) {
    console.error(`usage: npx tsx models/build/iresnet.ts ${Object.keys(IRESNET_LAYERS).join('|')} OUT.onnx`);
    process.exit(2);
  }
  writeIResNet(name as IResNetName, out);
  console.log(`${out}: ${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB`);
}
