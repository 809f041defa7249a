// The `xssab` task type: Patch-LFW build and evaluation, and calibration, from tasks.json or "Run
// Task". Each task runs the bundled CLI in a child process (off the extension host, with the CLI's
// resumable output folders) inside a pseudoterminal that shows its progress; closing the terminal
// or Terminate Task stops the child, and running the task again resumes the evaluation.
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { DprReportPanel } from './dprReportPanel';
import { isUserError } from './failures';
import type { Settings } from './settings';
import { type CliStep, TASK_TYPE, type TaskDefaults, TaskError, TerminalText, cliEnvironment, planTask } from './taskDefinition';

export interface TaskHost {
  /** dist/cli.js */
  cliPath: string;
  settings(): Settings;
  log: vscode.LogOutputChannel;
}

/** Registers the provider; the returned disposable also closes the report panel. */
export function registerXssabTasks(host: TaskHost): vscode.Disposable {
  return vscode.Disposable.from(vscode.tasks.registerTaskProvider(TASK_TYPE, new XssabTaskProvider(host)), { dispose: () => DprReportPanel.dispose() });
}

class XssabTaskProvider implements vscode.TaskProvider {
  constructor(private readonly host: TaskHost) {}

  /** A ready evaluation for each workspace folder laid out like LFW (an `lfw` folder and pairs.txt). */
  provideTasks(): vscode.Task[] {
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file' && fs.existsSync(path.join(f.uri.fsPath, 'lfw')) && fs.existsSync(path.join(f.uri.fsPath, 'pairs.txt')))
      .map((f) => this.task({ type: TASK_TYPE, command: 'patch-lfw', lfw: 'lfw', pairs: 'pairs.txt', out: 'xssab-patch-lfw' }, f));
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    return task.definition.type === TASK_TYPE ? this.task(task.definition, task.scope) : undefined;
  }

  private task(definition: vscode.TaskDefinition, scope: vscode.Task['scope']): vscode.Task {
    const folder = typeof scope === 'object' ? scope : vscode.workspace.workspaceFolders?.[0];
    const base = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    // VS Code substitutes variables such as ${workspaceFolder} before it calls back.
    const execution = new vscode.CustomExecution(async (resolved) => new CliTerminal(this.host, resolved, base));
    const name = typeof definition.command === 'string' ? definition.command : TASK_TYPE;
    // No problem matcher: the CLI prints progress, not compiler errors (without [] VS Code asks for one).
    return new vscode.Task(definition, scope ?? vscode.TaskScope.Workspace, name, TASK_TYPE, execution, []);
  }
}

/** Runs a task's CLI steps one after the other; the terminal closes with the first failing exit code. */
class CliTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private child?: ChildProcess;
  private stopped = false;

  constructor(
    private readonly host: TaskHost,
    private readonly definition: vscode.TaskDefinition,
    private readonly base: string | undefined,
  ) {}

  open(): void {
    this.run().then(
      (code) => this.closer.fire(code),
      (e) => {
        // A user error is written for users; anything else is unexpected and logged in full.
        const message = e instanceof Error ? e.message : String(e);
        if (!isUserError(e)) this.host.log.error(e instanceof Error ? (e.stack ?? message) : message);
        this.line(`xssab: ${isUserError(e) ? '' : 'unexpected error: '}${message}`);
        this.closer.fire(2);
      },
    );
  }

  /**
   * Closing the terminal or terminating the task ends the child at once: the evaluation appends
   * finished pairs per batch and drops a cut last line on resume, so at most the batch in flight
   * is lost.
   */
  close(): void {
    this.stopped = true;
    this.child?.kill();
  }

  private line(text: string): void {
    this.writer.fire(`${text}\r\n`);
  }

  private async run(): Promise<number> {
    // VS Code runs no tasks in Restricted Mode; this keeps it so should that change.
    if (!vscode.workspace.isTrusted) throw new TaskError('tasks run only in a trusted workspace');
    const settings = this.host.settings();
    const defaults: TaskDefaults = { model: settings.model, executionProvider: settings.executionProvider, verbose: settings.logLevel === 'debug' };
    const plan = planTask(this.definition, this.base, defaults);
    for (const step of plan.steps) {
      if (step.doneWhen && fs.existsSync(step.doneWhen)) {
        this.line(`${step.doneWhen} exists: using it (delete its folder to build again)`);
        continue;
      }
      const code = await this.runStep(step);
      if (this.stopped) return 130;
      if (code !== 0) return code;
    }
    if (plan.report) {
      DprReportPanel.show(plan.report);
      this.line(`report: ${path.join(plan.report, 'report.html')}`);
    }
    return 0;
  }

  /** Runs dist/cli.js with the extension host's own runtime; resolves with its exit code. */
  private runStep(step: CliStep): Promise<number> {
    this.line(`\x1b[1mxssab ${step.args.map(quoted).join(' ')}\x1b[0m`);
    this.host.log.info(`task: xssab ${step.args.join(' ')}`);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [this.host.cliPath, ...step.args], {
        cwd: this.base,
        env: cliEnvironment(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      for (const stream of [child.stdout, child.stderr]) {
        const text = new TerminalText();
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => this.writer.fire(text.push(chunk)));
        stream.on('end', () => this.writer.fire(text.flush()));
      }
      child.on('error', (e) => {
        this.line(`xssab: could not start the command line (${e.message})`);
        resolve(1);
      });
      child.on('close', (code) => {
        this.child = undefined;
        if (this.stopped) this.line('stopped; run the task again to resume');
        resolve(code ?? 1);
      });
    });
  }
}

const quoted = (arg: string) => (/^[\w./:=,@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
