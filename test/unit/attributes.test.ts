import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pairListOutline, readPairList } from '../../src/engine/pairList';
import { attributeNames, checkGroupBy, folderAttribute, joinImageAttributes, readImageAttributes, resolveCompare } from '../../src/engine/explainPairs/attributes';
import { parseCompare } from '../../src/cli/groups';

describe('pair attributes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attributes-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const at = (p: string) => path.join(dir, p);

  it('reads attribute columns named by the header, in any order, with an optional label', () => {
    const pairs = readPairList(write('list.csv', 'ethnicity,a,label,b,age_band\nAfrican,x.png,same,y.png,20-30\nAsian,z.png,,w.png,30-40\n'));
    assert.deepStrictEqual(pairs, [
      { a: at('x.png'), b: at('y.png'), label: 'same', attributes: { ethnicity: 'African', age_band: '20-30' } },
      { a: at('z.png'), b: at('w.png'), attributes: { ethnicity: 'Asian', age_band: '30-40' } },
    ]);
  });

  it('reads BFW-style lists: p1,p2 are the images and X1,X2 columns one attribute with a value per side', () => {
    const pairs = readPairList(write('bfw.csv', 'fold,p1,p2,label,g1,g2,e1,e2\n1,asian_females/n1/0001.jpg,asian_females/n1/0002.jpg,1,female,female,asian,asian\n1,a/x.jpg,b/y.jpg,0,female,male,asian,black\n'));
    assert.deepStrictEqual(pairs[1], { a: at('a/x.jpg'), b: at('b/y.jpg'), label: 'different', attributes: { fold: '1', g: ['female', 'male'], e: ['asian', 'black'] } });
    assert.strictEqual(pairs[0].label, 'same');
    assert.deepStrictEqual(attributeNames(pairs), ['fold', 'g', 'e']);
  });

  it('outlines a list from its text: its pairs and the attributes its header names', () => {
    const bfw = '# BFW\nfold,p1,p2,label,g1,g2,e1,e2\n\n1,a/x.jpg,b/y.jpg,1,f,f,a,a  # one\n1,a/x.jpg,b/z.jpg,0,f,m,a,b\n';
    assert.deepStrictEqual(pairListOutline(bfw), { pairs: 2, attributes: ['fold', 'g', 'e'] });
    assert.deepStrictEqual(pairListOutline('x.png,y.png,same\nx.png,z.png\n'), { pairs: 2, attributes: [] });
    assert.deepStrictEqual(pairListOutline('a,b,label\nx.png,y.png,same\n'), { pairs: 1, attributes: [] });
    assert.deepStrictEqual(pairListOutline('10\t300\nA\t1\t2\n'), { pairs: 2, attributes: [] }, "LFW's first line is counted: the caller knows it is no pair");
  });

  it('names the line of a row with too many or too few columns', () => {
    assert.throws(() => readPairList(write('bad.csv', 'a,b,label,gender\nx.png,y.png,same,F\nx.png,y.png,same\n')), /bad\.csv:3: 3 column\(s\) where the header names 4/);
    assert.throws(() => readPairList(write('bad.csv', 'a,b,gender\nx.png,y.png,F,extra\n')), /bad\.csv:2: 4 column\(s\) where the header names 3/);
  });

  it('joins a per-image table: a pair gets both sides\' values', () => {
    const pairs = readPairList(write('plain.csv', 'a,b,label\nimg/m1.png,img/m2.png,same\nimg/m1.png,img/w1.png,different\n'));
    const table = readImageAttributes(write('attrs.csv', '# per image\nimage,gender,age\nimg/m1.png,M,30\nimg/m2.png,M,40\nimg/w1.png,F,30\n'));
    const joined = joinImageAttributes(pairs, table, 'attrs.csv');
    assert.deepStrictEqual(joined.map((p) => p.attributes), [
      { gender: ['M', 'M'], age: ['30', '40'] },
      { gender: ['M', 'F'], age: ['30', '30'] },
    ]);
    assert.doesNotThrow(() => checkGroupBy(joined, ['gender', 'age']));
  });

  it('says which image is missing from the table, which table row is malformed, which --by is unknown', () => {
    const pairs = readPairList(write('plain.csv', 'a,b\nimg/m1.png,img/zz.png\n'));
    const table = readImageAttributes(write('attrs.csv', 'image,gender\nimg/m1.png,M\n'));
    assert.throws(() => joinImageAttributes(pairs, table, 'attrs.csv'), /attrs\.csv: no row for .*zz\.png \(pair 1 of the list\)/);
    assert.throws(() => readImageAttributes(write('t.csv', 'image,gender\nimg/m1.png,M,extra\n')), /t\.csv:2: 3 column\(s\) where the header names 2/);
    assert.throws(() => readImageAttributes(write('t.csv', 'img/m1.png,M\n')), /t\.csv:1: expected a header row "image,ATTRIBUTE…"/);
    assert.throws(() => readImageAttributes(write('t.csv', 'image,gender\na.png,F\na.png,M\n')), /t\.csv:3: a\.png is already in the table/);
    assert.throws(() => readImageAttributes(at('none.csv')), /none\.csv: attribute table not found/);
    assert.throws(() => checkGroupBy(pairs, ['gender']), /--by gender: no such attribute; the pairs have none/);
    assert.throws(() => checkGroupBy(joinImageAttributes(readPairList(write('one.csv', 'img/m1.png,img/m1.png\n')), table, 't'), ['race']), /--by race: no such attribute; the pairs have gender/);
  });

  it('checks --compare against --by and the groups the pairs have, either order of a per-image value naming one group', () => {
    const pairs = readPairList(write('cmp.csv', 'a,b,label,fold,g1,g2\nx.png,y.png,same,1,F,F\nx.png,z.png,different,2,F,M\nz.png,w.png,same,1,M,M\n'));
    assert.deepStrictEqual(resolveCompare(pairs, ['fold', 'g'], { attribute: 'g', x: 'M/F', y: 'M/M' }), { attribute: 'g', x: 'g=F/M', y: 'g=M/M' });
    assert.deepStrictEqual(resolveCompare(pairs, ['g', 'fold'], { attribute: 'fold', x: '2', y: '1' }), { attribute: 'fold', x: 'fold=2', y: 'fold=1' });
    assert.throws(() => resolveCompare(pairs, ['fold'], { attribute: 'g', x: 'F/F', y: 'M/M' }), /--compare g=…: g is not one of --by \(fold\)/);
    assert.throws(() => resolveCompare(pairs, ['g'], { attribute: 'g', x: 'F/F', y: 'X/X' }), /--compare g=X\/X: no pair has it; the pairs have g=F\/F, g=F\/M, g=M\/M/);
    assert.throws(() => resolveCompare(pairs, ['g'], { attribute: 'g', x: 'F/M', y: 'M/F' }), /--compare: F\/M and M\/F are one group \(g=F\/M\)/);
  });

  it('parses --compare ATTR=X,ATTR=Y and refuses other forms', () => {
    assert.deepStrictEqual(parseCompare('gender=F/F, gender=M/M'), { attribute: 'gender', x: 'F/F', y: 'M/M' });
    assert.throws(() => parseCompare('gender=F/F'), /--compare needs two groups ATTR=X,ATTR=Y .*got "gender=F\/F"/);
    assert.throws(() => parseCompare('gender=F/F,gender='), /--compare needs two groups/);
    assert.throws(() => parseCompare('gender=F/F,age=30'), /--compare compares two groups of one attribute, got gender and age/);
  });

  it('reads RFW-style folders: the first path component is the group', () => {
    const pairs = readPairList(write('rfw.csv', 'African/p1.jpg,African/p2.jpg,same\nAfrican/p1.jpg,Asian/q1.jpg,different\n'));
    assert.deepStrictEqual(folderAttribute(pairs, dir, 'ethnicity').map((p) => p.attributes), [{ ethnicity: ['African', 'African'] }, { ethnicity: ['African', 'Asian'] }]);
    assert.throws(() => folderAttribute(readPairList(write('flat.csv', 'x.png,y.png\n')), dir, 'ethnicity'), /pair 1: .*x\.png is not in a group folder/);
  });
});
