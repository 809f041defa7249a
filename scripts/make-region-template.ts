// Prints the mean 68-point landmark shape of the bundled sample photos' faces on the ArcFace
// 112×112 frame: every face's 68 points carried through its own alignment transform, averaged.
// regions.ts takes the face regions of an aligned crop (no landmarks of its own) from it.
//
//   npx tsx scripts/make-region-template.ts
import { readdirSync } from 'fs';
import * as path from 'path';
import { decodeImage } from '../src/engine/image';
import { FaceDetector } from '../src/engine/face/detector';
import { ARCFACE_TEMPLATE_112, applyAffine, similarityTransform } from '../src/shared/alignment';

const root = path.resolve(__dirname, '..');
const photosDir = path.join(root, 'samples', 'photos');

async function main(): Promise<void> {
  const detector = await FaceDetector.load('cpu', path.join(root, 'models'));
  const sum = Array.from({ length: 68 }, () => [0, 0]);
  let count = 0;
  for (const file of readdirSync(photosDir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
    for (const face of await detector.detect(await decodeImage(path.join(photosDir, file)))) {
      const t = similarityTransform(face.landmarks, ARCFACE_TEMPLATE_112);
      face.points68.forEach((p, i) => {
        const [x, y] = applyAffine(t, p);
        sum[i][0] += x;
        sum[i][1] += y;
      });
      count++;
    }
  }
  await detector.dispose();
  const mean = sum.map(([x, y]) => `[${(x / count).toFixed(1)}, ${(y / count).toFixed(1)}]`);
  console.log(`// mean of ${count} faces`);
  for (let i = 0; i < 68; i += 8) console.log(`  ${mean.slice(i, i + 8).join(', ')},`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
