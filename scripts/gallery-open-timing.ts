// How long the gallery panel takes to open a long run, and how much it sends: a list of N pairs
// (default 100,000) over the 40 bundled aligned crops, with a gender attribute per image, is
// scored with the bundled model and a few pairs per group explained (--explain sample:5 --by
// gender); then the host's path from the run folder to the gallery's first message is timed
// (openRunStore, readLens → RunPages → galleryData), and the pages the webview asks for on a filter, a sort
// and a group. Prints the times in ms and the first message's size.
// Usage: npm run bench:gallery [-- pairs]
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../src/engine/engine';
import { readLens } from '../src/engine/explainPairs/lens';
import { RunPages, galleryData, lensGroups, pairListOutput } from '../src/engine/explainPairs/load';
import { explainPairList } from '../src/engine/explainPairs/run';
import { openRunStore } from '../src/engine/explainPairs/store';
import { DEFAULT_QUERY, PAGE_SIZE } from '../src/shared/galleryPages';

const root = path.join(__dirname, '..');
const count = Number(process.argv[2] ?? 100_000);

/** Labelled pairs of the crops as samples/pairs.csv labels them: the man_* crops are one man, the women of sample1..6 different people (1 and 3 left out). */
function pairList(dir: string): { list: string; table: string } {
  const crops = fs.readdirSync(path.join(root, 'samples', 'aligned')).filter((n) => n.endsWith('.png')).sort();
  const person = (n: string) => (n.startsWith('man_') ? 'man' : n.slice(0, 'sampleN'.length));
  const combos: string[] = [];
  for (const [i, a] of crops.entries()) {
    for (const b of crops.slice(i + 1)) {
      const [p, q] = [person(a), person(b)];
      if (p !== 'man' && q !== 'man' && p !== q && [p, q].sort().join() === 'sample1,sample3') continue;
      if (p !== 'man' && p === q) continue; // one woman's faces: not labelled in the samples
      combos.push(`${path.join(root, 'samples', 'aligned', a)},${path.join(root, 'samples', 'aligned', b)},${p === q ? 'same' : 'different'}`);
    }
  }
  const lines = Array.from({ length: count }, (_, i) => combos[i % combos.length]);
  const list = path.join(dir, 'pairs.csv');
  fs.writeFileSync(list, `a,b,label\n${lines.join('\n')}\n`);
  const table = path.join(dir, 'gender.csv');
  fs.writeFileSync(table, `image,gender\n${crops.map((n) => `${path.join(root, 'samples', 'aligned', n)},${n.startsWith('man_') ? 'M' : 'F'}`).join('\n')}\n`);
  return { list, table };
}

const ms = (start: number) => `${(performance.now() - start).toFixed(0)} ms`;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-gallery-bench-'));
  try {
    const { list, table } = pairList(dir);
    const out = path.join(dir, 'run');
    const engine = await Engine.create({ ep: 'cpu' });
    let start = performance.now();
    try {
      await explainPairList({ list, out, engine, explain: { kind: 'sample', sample: 5 }, attributes: table, by: ['gender'], embeddingCache: undefined });
    } finally {
      await engine.dispose();
    }
    console.log(`run of ${count} pairs written in ${ms(start)}`);

    start = performance.now();
    const store = openRunStore(out);
    const opened = performance.now();
    const groups = lensGroups(readLens(out));
    const lensRead = performance.now();
    const pages = new RunPages(store, groups);
    const paged = performance.now();
    const data = await galleryData(store.summary, pages, { base: 'https://file+.vscode-resource.vscode-cdn.net/run' });
    const message = JSON.stringify({ type: 'gallery', data, out });
    console.log(
      `open → first message: ${ms(start)} (summary and settings ${(opened - start).toFixed(0)} ms, groups.json ${(lensRead - opened).toFixed(0)} ms, ` +
        `records ${(paged - lensRead).toFixed(0)} ms, first page ${(performance.now() - paged).toFixed(0)} ms); ` +
        `first message ${(message.length / 1024).toFixed(0)} KB (${data.page.items.length} pairs, ${Object.keys(data.page.thumbs).length} thumbnails)`,
    );
    const time = async (what: string, query: typeof DEFAULT_QUERY, offset = 0) => {
      const t = performance.now();
      const page = await pages.page(query, offset, PAGE_SIZE);
      console.log(`${what}: ${ms(t)} (${page.total} pairs kept)`);
    };
    await time('filter: false matches', { ...DEFAULT_QUERY, kind: 'false match' });
    await time('sort by score, descending', { ...DEFAULT_QUERY, sort: 'score', descending: true });
    await time('the next page of that sort', { ...DEFAULT_QUERY, sort: 'score', descending: true }, PAGE_SIZE);
    await time('group gender=F/F', { ...DEFAULT_QUERY, group: 'gender=F/F' });
    await time('text filter "man_0"', { ...DEFAULT_QUERY, text: 'man_0' });
    start = performance.now();
    const output = JSON.stringify(await pairListOutput(store, lensGroups(readLens(out))));
    console.log(`notebook output: ${ms(start)}, ${(output.length / 1024).toFixed(0)} KB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
