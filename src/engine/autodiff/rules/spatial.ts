// Convolution and pooling.
import { type GradRule, type OpType, type RuleContext, grad, input, only, output, refused, unsupported } from './types';

interface Geometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

/** Static channels-first shapes of a spatial op's input and output. */
export interface SpatialShapes {
  input: readonly number[];
  output: readonly number[];
}

/** The node's own shapes; a channels-last op passes its shapes transposed instead. */
const nodeShapes = (ctx: RuleContext): SpatialShapes => ({ input: ctx.shape(input(ctx, 0)), output: ctx.shape(output(ctx)) });

/** Kernel geometry with auto_pad resolved to explicit pads from the static shapes. */
function spatialGeometry(ctx: RuleContext, kernel: number[], shapes = nodeShapes(ctx)): Geometry {
  const spatial = kernel.length;
  const inShape = shapes.input.slice(2);
  const strides = ctx.ints('strides');
  const dilations = ctx.ints('dilations');
  const autoPad = ctx.string('auto_pad');
  let pads = ctx.ints('pads');
  if (autoPad === 'VALID') pads = Array(2 * spatial).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * spatial).fill(0);
    for (let a = 0; a < spatial; a++) {
      const effective = (kernel[a] - 1) * dilations[a] + 1;
      const total = Math.max(0, (Math.ceil(inShape[a] / strides[a]) - 1) * strides[a] + effective - inShape[a]);
      const small = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[a + spatial] = total - pads[a];
    }
  }
  return { kernel, strides, dilations, padsBegin: pads.slice(0, spatial), padsEnd: pads.slice(spatial) };
}

/**
 * Pads and output_padding of the ConvTranspose that maps an output-sized gradient back onto the
 * input size: output = s·(out−1) + op + eff − pb − pe must equal the input size.
 */
function transposeGeometry(geo: Geometry, shapes: SpatialShapes): { pads: number[]; outputPadding: number[] } {
  const inShape = shapes.input.slice(2);
  const outShape = shapes.output.slice(2);
  const ends: number[] = [];
  const outputPadding: number[] = [];
  geo.kernel.forEach((k, a) => {
    const effective = (k - 1) * geo.dilations[a] + 1;
    const end = geo.strides[a] * (outShape[a] - 1) + effective - geo.padsBegin[a] - inShape[a];
    ends.push(Math.max(end, 0));
    outputPadding.push(Math.max(-end, 0));
  });
  return { pads: [...geo.padsBegin, ...ends], outputPadding };
}

/**
 * The spatially flipped, per-group channel-transposed kernel [M, C/g, kh, kw] → [C, M/g, kh, kw],
 * as graph nodes: onnxruntime folds them into one constant when the weights are constant, so the
 * model file holds no second copy of them. Slice with steps needs opset 10.
 */
function flippedKernel(ctx: RuleContext, w: string, wShape: readonly number[], group: number): string {
  const { b } = ctx;
  const [m, cPerGroup, kh, kw] = wShape;
  const grouped = b.op('Reshape', [w, b.ints([group, m / group, cPerGroup, kh, kw])]);
  const swapped = b.op('Reshape', [b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] }), b.ints([cPerGroup * group, m / group, kh, kw])]);
  // Steps −1 from the last index; an end of −(size + 1) runs through index 0.
  return b.op('Slice', [swapped, b.ints([-1, -1]), b.ints([-(kh + 1), -(kw + 1)]), b.ints([2, 3]), b.ints([-1, -1])]);
}

/**
 * The input gradient of a convolution of input 0 with the kernel `wName` (by default input 1;
 * the integer convolutions pass their dequantized kernel, built in the graph).
 */
export function convBack(ctx: RuleContext, g = grad(ctx), wName = input(ctx, 1), wShape = ctx.shape(wName)): string {
  const group = ctx.int('group');
  const geo = spatialGeometry(ctx, ctx.ints('kernel_shape'));
  // Stride 1 with a 2-D kernel: a plain Conv with the flipped kernel is ~1.8× faster than ConvTranspose.
  // With stride 1 the flipped convolution maps the output size back onto the input size exactly.
  const reach = geo.kernel.map((k, a) => (k - 1) * geo.dilations[a]);
  const flippedPads = [...reach.map((r, a) => r - geo.padsBegin[a]), ...reach.map((r, a) => r - geo.padsEnd[a])];
  if (ctx.opset >= 10 && wShape.length === 4 && geo.strides.every((s) => s === 1) && flippedPads.every((p) => p >= 0)) {
    // One flipped kernel per node, shared by the backward passes of all cotangents.
    const flipped = ctx.memo('flipped_kernel', () => flippedKernel(ctx, wName, wShape, group));
    return ctx.b.op('Conv', [g, flipped], { group, dilations: geo.dilations, pads: flippedPads });
  }
  const { pads, outputPadding } = transposeGeometry(geo, nodeShapes(ctx));
  return ctx.b.op('ConvTranspose', [g, wName], {
    group,
    strides: geo.strides,
    dilations: geo.dilations,
    pads,
    output_padding: outputPadding,
    kernel_shape: geo.kernel,
  });
}

/** The input gradient of a 2-D average pooling of channels-first tensors shaped as `shapes` say. */
export function averagePoolBack(ctx: RuleContext, g = grad(ctx), shapes = nodeShapes(ctx)): string {
  const kernel = ctx.ints('kernel_shape');
  const geo = spatialGeometry(ctx, kernel, shapes);
  const [channels, inH, inW] = shapes.input.slice(1);
  const [outH, outW] = shapes.output.slice(2);
  const includePad = ctx.int('count_include_pad') === 1;
  // How many input elements each window averaged: windows are clipped to the padded (or plain) input.
  const lo = includePad ? [-geo.padsBegin[0], -geo.padsBegin[1]] : [0, 0];
  const hi = includePad ? [inH + geo.padsEnd[0], inW + geo.padsEnd[1]] : [inH, inW];
  const inverseCount = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      let count = 1;
      [y, x].forEach((o, a) => {
        let n = 0;
        for (let k = 0; k < kernel[a]; k++) {
          const p = o * geo.strides[a] - geo.padsBegin[a] + k * geo.dilations[a];
          if (p >= lo[a] && p < hi[a]) n++;
        }
        count *= n;
      });
      inverseCount[y * outW + x] = 1 / count;
    }
  const scaled = ctx.b.op('Mul', [g, ctx.b.initializer('pool_inverse_count', [1, 1, outH, outW], inverseCount)]);
  const ones = ctx.b.initializer('pool_ones', [channels, 1, ...kernel], new Float32Array(channels * kernel[0] * kernel[1]).fill(1));
  const { pads, outputPadding } = transposeGeometry(geo, shapes);
  return ctx.b.op('ConvTranspose', [scaled, ones], {
    group: channels,
    strides: geo.strides,
    dilations: geo.dilations,
    pads,
    output_padding: outputPadding,
  });
}

function maxPoolBack(ctx: RuleContext): string {
  const x = input(ctx, 0);
  const { b } = ctx;
  const flatIndices = ctx.memo('indices', () => {
    // The same pooling again, now with the Indices output the forward node may not have.
    // Only the attributes the node sets: onnxruntime refuses explicit pads next to a SAME auto_pad.
    const own = <T>(name: string, read: (name: string) => T) => (ctx.has(name) ? read(name) : undefined);
    const ints = (name: string) => own(name, ctx.ints);
    const [, indices] = b.node(
      'MaxPool',
      [x],
      {
        kernel_shape: ints('kernel_shape'),
        strides: ints('strides'),
        pads: ints('pads'),
        dilations: ints('dilations'),
        ceil_mode: own('ceil_mode', ctx.int),
        auto_pad: own('auto_pad', ctx.string),
      },
      2,
    );
    return b.op('Reshape', [indices, b.ints([-1])]);
  });
  const zeros = ctx.memo('zeros', () => b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [x]), b.ints([1])])], {}));
  // Overlapping windows can pick one input twice: the contributions must add, not overwrite.
  const scattered = b.op('ScatterElements', [zeros, flatIndices, b.op('Reshape', [grad(ctx), b.ints([-1])])], { axis: 0, reduction: 'add' });
  return b.op('Reshape', [scattered, ctx.runtimeShape(x)]);
}

/** Defaults shared by Conv and the pools, sized by the kernel's spatial rank. */
const spatialRank = (ctx: RuleContext) => ctx.shape(input(ctx, 0)).length - 2;
export const geometryDefaults = {
  strides: (ctx: RuleContext) => Array(spatialRank(ctx)).fill(1),
  dilations: (ctx: RuleContext) => Array(spatialRank(ctx)).fill(1),
  pads: (ctx: RuleContext) => Array(2 * spatialRank(ctx)).fill(0),
  auto_pad: 'NOTSET',
};

export const spatialRules = {
  Conv: {
    defaults: { ...geometryDefaults, group: 1, kernel_shape: (ctx) => ctx.shape(input(ctx, 1)).slice(2) },
    backward: (ctx) => [
      () => convBack(ctx),
      refused('gradients with respect to the weights are not supported'),
      ...(ctx.node.input!.length > 2 ? [null] : []),
    ],
  },
  AveragePool: {
    defaults: { ...geometryDefaults, count_include_pad: 0 },
    backward: (ctx) => {
      if (ctx.ints('kernel_shape').length !== 2) unsupported(ctx, 'only 2-D pooling is supported');
      return only(ctx, () => averagePoolBack(ctx));
    },
  },
  MaxPool: {
    defaults: { ...geometryDefaults, ceil_mode: 0 },
    minOpset: { opset: 16, why: 'ScatterElements with reduction' },
    backward: (ctx) => only(ctx, () => maxPoolBack(ctx)),
  },
} satisfies Partial<Record<OpType, GradRule>>;
