// How long the explanation panel waits when the user moves the threshold: a pair of sample photos
// is explained once through the real engine worker (dist/engineWorker.js, as the extension runs
// it), then again at other thresholds; prints the first run and the median re-run, in ms.
// Usage: npm run bench:rerun [-- runs]
import * as path from 'path';
import { Worker } from 'worker_threads';
import { EngineClient } from '../src/extension/engineClient';

const root = path.join(__dirname, '..');
const runs = Number(process.argv[2] ?? 9);
const photo = (name: string) => path.join(root, 'samples', 'photos', name);

async function main(): Promise<void> {
  const client = new EngineClient(() => new Worker(path.join(root, 'dist', 'engineWorker.js')));
  const job = { ep: 'cpu', a: photo('man_01.jpg'), b: photo('man_02.jpg') };
  const time = async (threshold?: number) => {
    const start = performance.now();
    await client.explain({ ...job, threshold });
    return performance.now() - start;
  };
  try {
    const first = await time();
    const reruns: number[] = [];
    for (let i = 0; i < runs; i++) reruns.push(await time(0.2 + i * 0.01));
    reruns.sort((x, y) => x - y);
    console.log(`first run ${first.toFixed(0)} ms (model load included); threshold re-run median ${reruns[runs >> 1].toFixed(0)} ms over ${runs} (min ${reruns[0].toFixed(0)}, max ${reruns[runs - 1].toFixed(0)})`);
  } finally {
    client.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
