import { strict as assert } from 'assert';
import { parse } from 'jsonc-parser';
import { TasksJsonError, addTask } from '../../src/extension/tasksJson';

const TASK = { label: 'Patch-Samples', type: 'xssab', command: 'patch-lfw', set: 'xssab-samples/samples/patch-samples', problemMatcher: [] };

// As VS Code writes a new tasks.json (comments included), with a one-line task of the user's.
const USERS = `{
\t// See https://go.microsoft.com/fwlink/?LinkId=733558
\t// for the documentation about the tasks.json format
\t"version": "2.0.0",
\t"tasks": [
\t\t{ "label": "build", "type": "shell", "command": "make" }, /* keep me */
\t\t{
\t\t\t"label": "test",
\t\t\t"type": "shell",
\t\t\t"command": "make test",
\t\t},
\t]
}
`;

describe('tasks.json merge', () => {
  it('appends the task and keeps every comment, the existing tasks and their formatting', () => {
    const merged = addTask(USERS, TASK)!;
    // Everything of the user's is still there, character for character, before the new task.
    const insertAt = merged.indexOf(',\n\t\t{\n\t\t  "label": "Patch-Samples"');
    assert.ok(insertAt > 0, merged);
    assert.equal(merged.slice(0, insertAt), USERS.slice(0, insertAt));
    assert.equal(merged.slice(merged.indexOf('\t\t}', insertAt + 2) + 3), USERS.slice(insertAt));
    for (const comment of ['// See https://go.microsoft.com/fwlink/?LinkId=733558', '/* keep me */']) assert.ok(merged.includes(comment), comment);
    const tasks = parse(merged, [], { allowTrailingComma: true }).tasks;
    assert.deepEqual(tasks.map((t: { label: string }) => t.label), ['build', 'test', 'Patch-Samples']);
    assert.deepEqual(tasks[2], TASK);
  });

  it('leaves a tasks.json alone that has a task of that label', () => {
    const once = addTask(USERS, TASK)!;
    assert.equal(addTask(once, { ...TASK, set: 'elsewhere' }), undefined);
  });

  it('creates the file, or the tasks list and the version, when they are missing', () => {
    assert.deepEqual(JSON.parse(addTask(undefined, TASK)!), { version: '2.0.0', tasks: [TASK] });
    const noTasks = addTask('{\n  // mine\n  "version": "2.0.0"\n}\n', TASK)!;
    assert.match(noTasks, /\/\/ mine/);
    assert.deepEqual(parse(noTasks), { version: '2.0.0', tasks: [TASK] });
    assert.deepEqual(parse(addTask('{ "tasks": [ { "label": "a" } ] }', TASK)!), { version: '2.0.0', tasks: [{ label: 'a' }, TASK] });
  });

  it('refuses a file that does not parse or is not a tasks file, naming the problem', () => {
    assert.throws(() => addTask('{ "tasks": [ { "label": "a" ', TASK), (e: Error) => e instanceof TasksJsonError && /does not parse \(\w+ on line 1\); it was left as it is/.test(e.message));
    assert.throws(() => addTask('[]', TASK), /does not hold an object/);
    assert.throws(() => addTask('{ "tasks": {} }', TASK), /"tasks" of tasks.json is not a list/);
  });
});
