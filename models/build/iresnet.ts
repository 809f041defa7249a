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

export function buildIResNet(name: IResNetName, seed = 1): Uint8Array {
  const graph: Graph = { name, node: [], initializer: [], input: [floatValueInfo('input', ['N', 3, 112, 112])], output: [] };
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

  let x = prelu(bn(conv('input', 3, 64, 3, 1), 64), 64);
  let channels = 64;
  IRESNET_LAYERS[name].forEach((blocks, stage) => {
    const planes = 64 << stage;
    for (let i = 0; i < blocks; i++) {
      x = block(x, channels, planes, i === 0 ? 2 : 1);
      channels = planes;
    }
  });
  x = b.op('Flatten', [bn(x, 512)], { axis: 1 });
  const fc = b.initializer('fc_w', [512, 512 * 7 * 7], values(512 * 512 * 49, Math.sqrt(1 / (512 * 49))));
  x = b.op('Gemm', [x, fc, b.initializer('fc_b', [512], new Float32Array(512))], { transB: 1 });
  // features: BatchNorm1d with its weight fixed to 1, as in arcface_torch.
  const features = b.op('BatchNormalization', [x, b.initializer('f_scale', [512], new Float32Array(512).fill(1)), b.initializer('f_bias', [512], new Float32Array(512)), b.initializer('f_mean', [512], new Float32Array(512)), b.initializer('f_var', [512], new Float32Array(512).fill(1))], { epsilon: float(1e-5) });
  graph.node!.push({ opType: 'Identity', name: 'embedding_out', input: [features], output: ['embedding'] });
  graph.output = [floatValueInfo('embedding', ['N', 512])];
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
