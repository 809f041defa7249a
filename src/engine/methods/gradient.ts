// The gradient methods, both read from the fused xSSAB graphs: xSSAB itself (spec §2) and plain
// gradient saliency, which the same backward passes give at no extra cost.
import { stackFaces, unitEmbeddings } from '../embeddings';
import type { FaceMaps, PairExplanation } from '../xssab';
import { type ExplanationMethod, type FaceAttribution, type MethodContext, type MethodPair, defineMethod } from './method';

type Pick = (maps: FaceMaps, saliency: Float32Array) => FaceAttribution;

/** The partners' unit embeddings: those the caller gave, the others computed in batches. */
export async function partnersOf(ctx: MethodContext, pairs: readonly MethodPair[]): Promise<Float32Array[]> {
  const missing = pairs.filter((p) => !p.partner);
  const computed = await unitEmbeddings(ctx.explainer, missing.map((p) => p.b), ctx.batch);
  return pairs.map((p) => p.partner ?? computed[missing.indexOf(p)]);
}

function gradientMethod(ctx: MethodContext, pick: Pick): ExplanationMethod {
  return {
    async attribute(pairs, faces) {
      const out = [];
      if (faces === 'both') {
        // Each pair is two faces of a run, and holds four gradient maps in memory.
        const chunk = Math.max(1, Math.floor(ctx.batch / 2));
        for (let start = 0; start < pairs.length; start += chunk) {
          const part = pairs.slice(start, start + chunk);
          const explained: PairExplanation[] = await ctx.explainer.explainBatch(stackFaces(part.map((p) => p.a)), stackFaces(part.map((p) => p.b)), ctx.threshold);
          out.push(...explained.map((run) => ({ faces: [pick(run.maps[0], run.saliency[0]), pick(run.maps[1], run.saliency[1])], run })));
        }
        return out;
      }
      const partners = await partnersOf(ctx, pairs);
      for (let start = 0; start < pairs.length; start += ctx.batch) {
        const end = Math.min(start + ctx.batch, pairs.length);
        const explained = await ctx.explainer.explainFirst(stackFaces(pairs.slice(start, end).map((p) => p.a)), stackFaces(partners.slice(start, end)), ctx.threshold);
        out.push(...explained.map((e) => ({ faces: [pick(e.maps, e.saliency)] })));
      }
      return out;
    },
  };
}

export const XSSAB = defineMethod({
  name: 'xssab',
  description: 'xSSAB (Huber et al., WACV 2024): similarity map M⁺, dissimilarity map M⁻ and combined map M⁺ − M⁻ of each face (spec §2)',
  maps: 'all',
  params: {},
  create: (ctx) => gradientMethod(ctx, (maps) => ({ ...maps })),
});

/**
 * Plain gradient saliency mean_c |∂s/∂x|. It has no sign, so DPR reads all of it as evidence FOR
 * the match: an accepted pair loses its most salient pixels first, a rejected pair its least
 * salient ones.
 */
export const SALIENCY = defineMethod({
  name: 'saliency',
  description: 'plain gradient saliency mean_c |∂s/∂x| (unsigned; read as evidence for the match); combined map only',
  maps: 'combined',
  params: {},
  create: (ctx) => gradientMethod(ctx, (_, saliency) => ({ combined: saliency })),
});
