// Reading an explained pair list back: its summary, and one pair as the explanation payload the
// interactive viewer takes (for the gallery: a click on a pair opens it).
import * as fs from 'fs';
import * as path from 'path';
import { encodeMap, readNpy } from '../output';
import { type EncodedMap, type ExplanationPayload, type ExplanationResult, MAP_KINDS, type MapKind } from '../result';
import { ExplainPairsError, SUMMARY_FILE } from './run';
import type { ModelEntry, PairListRecord, PairListSummary } from './summary';

export function readSummary(out: string): PairListSummary {
  const file = path.join(out, SUMMARY_FILE);
  if (!fs.existsSync(file)) throw new ExplainPairsError(`${out}: no ${SUMMARY_FILE}, not an explain-pairs output folder`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PairListSummary;
}

/** One explained pair of the list, as one model explained it, in the viewer's payload form. */
export function pairPayload(out: string, record: PairListRecord, key: ModelEntry['key'] = 'model-a'): ExplanationPayload {
  if (!record.outcomes) throw new ExplainPairsError(`pair ${record.index} was not explained: ${record.failed}`);
  const dir = path.join(out, record.dir, key);
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as ExplanationResult;
  const [h, w] = result.model.inputSize;
  const image = (side: 'a' | 'b') => `data:image/png;base64,${fs.readFileSync(path.join(dir, `${side}_aligned.png`)).toString('base64')}`;
  const maps = (side: 'a' | 'b') =>
    Object.fromEntries(MAP_KINDS.map((k) => [k, encodeMap(readNpy(path.join(dir, `${side}_${k}.npy`)).data, [h, w])])) as Record<MapKind, EncodedMap>;
  return {
    ...result,
    images: { a: image('a'), b: image('b') },
    maps: { a: maps('a'), b: maps('b') },
  };
}
