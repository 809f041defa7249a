// GPU check: runs the engine on every GPU execution provider that loads here, checks that its
// maps equal the CPU maps (relative L2 error < 1e-3), and prints a table of timings.
// Installs nothing; run through scripts/gpu-check.sh, which runs it twice: with the machine's own
// drivers, and on the software Vulkan device (one row, as CI does).
//   npx tsx scripts/gpu-check.ts [--providers cuda,webgpu] [--models default,iresnet100]
//                                [--batches 1,64] [--runs N] [--device LABEL]
import { execFileSync } from 'child_process';
import { parseArgs } from 'util';
import { loadFrModel, defaultModelPath } from '../src/engine/model';
import { MAP_KINDS } from '../src/shared/result';
import { type ExecutionProviderChoice, tryProviders } from '../src/engine/runtime';
import { Explainer, type PairExplanation } from '../src/engine/xssab';
import { resolveModel } from '../models/build/iresnet';
import { timeRuns } from './timing';

const TOLERANCE = 1e-3;

function relativeL2(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

/** Worst relative L2 error over all maps of all pairs. */
function worstError(gpu: PairExplanation[], cpu: PairExplanation[]): number {
  let worst = 0;
  cpu.forEach((pair, i) =>
    pair.maps.forEach((maps, side) => MAP_KINDS.forEach((k) => (worst = Math.max(worst, relativeL2(gpu[i].maps[side][k], maps[k]))))),
  );
  return worst;
}

function deviceMemoryMiB(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'n/a';
  }
}

function faces(n: number, size: number, phase: number): Float32Array {
  return Float32Array.from({ length: n * size }, (_, i) => Math.sin(i * 0.37 + phase) * 0.9);
}

const list = (value: string | undefined, fallback: string) => (value ?? fallback).split(',').filter(Boolean);

async function main() {
  const { values } = parseArgs({
    options: {
      providers: { type: 'string' },
      models: { type: 'string' },
      batches: { type: 'string' },
      runs: { type: 'string' },
      device: { type: 'string' },
    },
  });
  const runsAtOne = Number(values.runs ?? 20);
  const label = values.device ? ` (${values.device})` : '';
  const rows = ['| model | provider | batch (pairs) | explain ms | embed ms | ratio | pairs/s | max rel. L2 vs CPU | device MiB |', '|---|---|---|---|---|---|---|---|---|'];
  const notes: string[] = [];
  // Tried first, in a child process: a provider that is not there costs no model loading.
  const trials = await tryProviders(list(values.providers, 'cuda,webgpu'));
  for (const t of trials) if (t.reason) notes.push(`${t.ep}${label} not usable here (${t.reason})`);
  const providers = trials.filter((t) => t.reason === null).map((t) => t.ep as ExecutionProviderChoice);
  for (const name of providers.length ? list(values.models, 'default,iresnet100') : []) {
    const model = await loadFrModel(name === 'default' ? defaultModelPath() : resolveModel(name));
    const size = model.inputShape.reduce((a, b) => a * b, 1);
    const [a, b] = [faces(2, size, 0), faces(2, size, 1)];
    const cpu = await Explainer.create(model, 'cpu');
    const reference = await cpu.explainBatch(a, b, model.threshold);
    await cpu.release();
    for (const provider of providers) {
      let reason = '';
      const explainer = await Explainer.create(model, provider, (f) => (reason = f.reason));
      if (explainer.ep !== provider) {
        notes.push(`${name}: ${provider}${label} not usable here (${reason})`);
        await explainer.release();
        continue;
      }
      const error = worstError(await explainer.explainBatch(a, b, model.threshold), reference);
      for (const n of list(values.batches, '1,64').map(Number)) {
        const [fa, fb] = [faces(n, size, 0), faces(n, size, 1)];
        const both = new Float32Array(2 * n * size);
        both.set(fa);
        both.set(fb, n * size);
        const runs = n === 1 ? runsAtOne : Math.max(1, Math.ceil(runsAtOne / 4));
        const warmup = Math.min(3, runs);
        const explainMs = await timeRuns(runs, () => explainer.explainBatch(fa, fb, model.threshold), warmup);
        const embedMs = await timeRuns(runs, () => explainer.embed(both), warmup);
        rows.push(
          `| ${model.name} | ${explainer.ep}${label} | ${n} | ${explainMs.toFixed(2)} | ${embedMs.toFixed(2)} | ${(explainMs / embedMs).toFixed(2)} | ${((1000 * n) / explainMs).toFixed(1)} | ${error.toExponential(2)}${error < TOLERANCE ? '' : ' FAIL'} | ${deviceMemoryMiB()} |`,
        );
        if (error >= TOLERANCE) process.exitCode = 1;
      }
      await explainer.release();
    }
  }
  console.log(rows.join('\n'));
  for (const n of notes) console.log(`note: ${n}`);
  if (rows.length === 2) console.log(`note: no GPU execution provider could run here${label}: nothing to compare`);
}

main().catch((e) => {
  console.error(`gpu-check: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
