// Writes samples/aligned/<photo>_face<k>.png: every face the bundled detector finds in
// samples/photos, aligned to the ArcFace 112×112 template (k = 0 is the largest face).
//
//   npx tsx scripts/make-aligned-samples.ts
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { decodeImage, encodePng } from '../src/engine/image';
import { FaceDetector } from '../src/engine/face/detector';
import { warpAffine } from '../src/engine/face/align';
import { ARCFACE_TEMPLATE_112, similarityTransform } from '../src/shared/alignment';

const root = path.resolve(__dirname, '..');
const photosDir = path.join(root, 'samples', 'photos');
const alignedDir = path.join(root, 'samples', 'aligned');

async function main(): Promise<void> {
  const detector = await FaceDetector.load('cpu', path.join(root, 'models'));
  rmSync(alignedDir, { recursive: true, force: true });
  mkdirSync(alignedDir, { recursive: true });
  let total = 0;
  for (const file of readdirSync(photosDir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
    const photo = await decodeImage(path.join(photosDir, file));
    const started = performance.now();
    const faces = await detector.detect(photo);
    const crops = faces.map((face) => warpAffine(photo, similarityTransform(face.landmarks, ARCFACE_TEMPLATE_112), 112, 112));
    const ms = performance.now() - started;
    for (const [k, crop] of crops.entries()) {
      const name = `${path.parse(file).name}_face${k}.png`;
      writeFileSync(path.join(alignedDir, name), await encodePng(crop.width, crop.height, 3, crop.data));
    }
    total += faces.length;
    console.log(`${file}: ${photo.width}×${photo.height}, ${faces.length} face(s), detection + alignment ${ms.toFixed(0)} ms`);
  }
  await detector.dispose();
  console.log(`${total} aligned faces in ${path.relative(root, alignedDir)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
