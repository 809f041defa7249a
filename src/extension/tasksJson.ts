// Adds a task to the text of a .vscode/tasks.json, editing it in place with jsonc-parser (VS Code's
// own JSONC library), so the user's comments, formatting and tasks stay as they were. vscode-free.
import { type ParseError, applyEdits, findNodeAtLocation, modify, type Node, parseTree, printParseErrorCode } from 'jsonc-parser';
import { UserError } from '../shared/errors';
/** tasks.json cannot take the task; the message says why, for the user. */
export class TasksJsonError extends UserError {}

export interface TaskEntry {
  label: string;
  [property: string]: unknown;
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

/**
 * The tasks.json text with `task` appended to its `tasks`, or undefined when a task of the same
 * label is there already (it is left alone). `text` undefined: the file does not exist yet.
 * A file that does not parse is refused, never rewritten.
 */
export function addTask(text: string | undefined, task: TaskEntry): string | undefined {
  if (text === undefined || text.trim() === '') return JSON.stringify({ version: '2.0.0', tasks: [task] }, null, 2) + '\n';
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || !tree) {
    const first = errors[0];
    const line = first ? text.slice(0, first.offset).split('\n').length : 1;
    throw new TasksJsonError(`tasks.json does not parse (${first ? printParseErrorCode(first.error) : 'empty'} on line ${line}); it was left as it is`);
  }
  if (tree.type !== 'object') throw new TasksJsonError('tasks.json does not hold an object; it was left as it is');
  const tasks = findNodeAtLocation(tree, ['tasks']);
  if (tasks && tasks.type !== 'array') throw new TasksJsonError('the "tasks" of tasks.json is not a list; it was left as it is');
  const labelled = (node: Node) => node.type === 'object' && findNodeAtLocation(node, ['label'])?.value === task.label;
  if (tasks?.children?.some(labelled)) return undefined;
  const withTask = appendTask(text, tasks, task);
  return findNodeAtLocation(tree, ['version']) ? withTask : applyEdits(withTask, modify(withTask, ['version'], '2.0.0', FORMAT));
}

function appendTask(text: string, tasks: Node | undefined, task: TaskEntry): string {
  const last = tasks?.children?.at(-1);
  if (!last) return applyEdits(text, modify(text, ['tasks'], [task], FORMAT));
  // After the last task, indented as it is. (jsonc-parser's own insertion would reformat the
  // line it lands on, which may be the user's one-line task.)
  const end = last.offset + last.length;
  const lineStart = text.lastIndexOf('\n', last.offset) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const entry = JSON.stringify(task, null, 2).replace(/\n/g, `\n${indent}`);
  return `${text.slice(0, end)},\n${indent}${entry}${text.slice(end)}`;
}
