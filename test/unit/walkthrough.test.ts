// The walkthrough in package.json: every step has a button, each button runs a command the
// extension contributes (or VS Code's settings editor on an xssab setting), and its media exist
// and go into the .vsix.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const vscodeignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');

describe('walkthrough', () => {
  const [walkthrough, ...others] = manifest.contributes.walkthroughs;
  const commands = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  const settings = new Set(Object.keys(manifest.contributes.configuration.properties));

  it('has three or four steps: the samples, two photos, a model, a pair list', () => {
    assert.equal(others.length, 0);
    assert.deepEqual(walkthrough.steps.map((s: { id: string }) => s.id), ['trySamples', 'explainOwn', 'ownModel', 'pairList']);
  });

  it('gives every step a button that runs a contributed command or opens an xssab setting', () => {
    for (const step of walkthrough.steps) {
      const buttons = [...(step.description as string).matchAll(/\[[^\]]+\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)];
      assert.ok(buttons.length > 0, `${step.id} has no button`);
      for (const [, command, args] of buttons) {
        if (command === 'workbench.action.openSettings') assert.ok(settings.has(JSON.parse(decodeURIComponent(args))[0]), `${step.id}: ${args}`);
        else assert.ok(commands.has(command), `${step.id}: ${command} is not contributed`);
      }
    }
    assert.ok(walkthrough.steps.some((s: { description: string }) => s.description.includes('command:xssab.trySamples')));
    const ownModel = walkthrough.steps.find((s: { id: string }) => s.id === 'ownModel');
    assert.ok(ownModel.description.includes('(command:xssab.inspectModel)'), 'the model step inspects the model');
  });

  it('registers every contributed command in the extension', () => {
    const dir = path.join(root, 'src', 'extension');
    const sources = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const registered = new Set([...sources.matchAll(/registerCommand\('([\w.]+)'/g)].map((m) => m[1]));
    assert.deepEqual([...commands].filter((c) => !registered.has(c as string)), []);
  });

  it('has the media of every step, and the .vsix takes them', () => {
    for (const step of walkthrough.steps) {
      const file = step.media.markdown ?? step.media.image;
      assert.ok(fs.existsSync(path.join(root, file)), `${step.id}: ${file}`);
      const dir = path.posix.dirname(file);
      assert.ok(vscodeignore.includes(`!${file}`) || vscodeignore.includes(`!${dir}/*${path.posix.extname(file)}`), `${file} is not let into the .vsix`);
    }
  });
});
