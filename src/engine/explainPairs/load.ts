// Reading an explained pair list back: its summary, and one pair as the explanation payload the
// interactive viewer takes (for the gallery: a click on a pair opens it).
import * as fs from 'fs';
import * as path from 'path';
import { readNpy } from '../output';
import { encodeMap, type MapForm } from '../../shared/mapCodec';
import { type EncodedMap, type ExplanationPayload, type ExplanationResult, MAP_KINDS, type MapData, type MapKind } from '../../shared/result';
import { ExplainPairsError, SUMMARY_FILE } from './run';
import { thumbnailPairs } from './summary';
import type { MapFiles, ModelEntry, PairListOutput, PairListRecord, PairListSummary } from '../../shared/pairListSummary';

export function readSummary(out: string): PairListSummary {
  const file = path.join(out, SUMMARY_FILE);
  if (!fs.existsSync(file)) throw new ExplainPairsError(`${out}: no ${SUMMARY_FILE}, not an explain-pairs output folder`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PairListSummary;
}

/** One explained pair of the list, as one model explained it, in the viewer's payload form (maps in base64 unless another form is asked for). */
export function pairPayload(out: string, record: PairListRecord, key?: ModelEntry['key']): ExplanationPayload<EncodedMap>;
export function pairPayload<M extends MapData>(out: string, record: PairListRecord, key: ModelEntry['key'], form: MapForm<M>): ExplanationPayload<M>;
export function pairPayload(out: string, record: PairListRecord, key: ModelEntry['key'] = 'model-a', form: MapForm<MapData> = encodeMap): ExplanationPayload {
  if (!record.outcomes) throw new ExplainPairsError(`pair ${record.index} was not explained: ${record.failed}`);
  if (record.scoredOnly) throw new ExplainPairsError(`pair ${record.index} was scored, not explained (run explain-pairs with --explain all to explain every pair)`);
  const dir = path.join(out, record.dir, key);
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as ExplanationResult;
  const [h, w] = result.model.inputSize;
  const image = (side: 'a' | 'b') => `data:image/png;base64,${fs.readFileSync(path.join(dir, `${side}_aligned.png`)).toString('base64')}`;
  const maps = (side: 'a' | 'b') =>
    Object.fromEntries(MAP_KINDS.map((k) => [k, form(readNpy(path.join(dir, `${side}_${k}.npy`)).data, [h, w])])) as Record<MapKind, MapData>;
  return {
    ...result,
    images: { a: image('a'), b: image('b') },
    maps: { a: maps('a'), b: maps('b') },
  };
}

/** The notebook form of an explained pair list (see PairListOutput). */
export function pairListOutput(out: string, summary: PairListSummary): PairListOutput {
  const maps = (files: Record<string, MapFiles>) => Object.values(files).map((f) => f.png);
  const byIndex = new Map(summary.pairs.map((p) => [p.index, p]));
  const files = [
    ...summary.models.flatMap((m) => [...(m.fnmMinusTm ? [m.fnmMinusTm.png] : []), ...m.aggregates.flatMap((g) => maps(g.maps))]),
    ...(summary.comparison?.aggregates ?? []).flatMap((g) => maps(g.maps)),
    ...thumbnailPairs(summary).map((i) => path.join(byIndex.get(i)!.dir, 'thumb.png')),
  ];
  const data: Record<string, string> = {};
  for (const file of files) data[file.split(path.sep).join('/')] = `data:image/png;base64,${fs.readFileSync(path.join(out, file)).toString('base64')}`;
  return { summary, files: { data } };
}
