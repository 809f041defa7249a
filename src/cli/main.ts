#!/usr/bin/env node
// The xssab command line: dispatches to the subcommands and turns their errors into one line on
// stderr and an exit status.
import { UsageError, UserError } from '../shared/errors';
import { RunError } from '../engine/runtime';
import { CALIBRATE_USAGE, calibrateCommand } from './calibrate';
import { DEMO_USAGE, demoCommand } from './demo';
import { EXPLAIN_OPTIONS_USAGE, EXPLAIN_USAGE, explainCommand } from './explain';
import { EXPLAIN_PAIRS_USAGE, explainPairsCommand } from './explainPairs';
import { INSPECT_USAGE, inspectCommand } from './inspect';
import { PATCH_LFW_USAGE, patchLfwCommand } from './patchLfw';

const USAGE = `Usage:
${EXPLAIN_USAGE}
${DEMO_USAGE}
${CALIBRATE_USAGE}
${EXPLAIN_PAIRS_USAGE}
${PATCH_LFW_USAGE}
${INSPECT_USAGE}
  xssab help

${EXPLAIN_OPTIONS_USAGE}`;

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  explain: explainCommand,
  demo: demoCommand,
  calibrate: calibrateCommand,
  'explain-pairs': explainPairsCommand,
  'patch-lfw': patchLfwCommand,
  inspect: inspectCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'help' || command === '--help' || command === '-h') {
      console.log(USAGE);
      return 0;
    }
    const run = command === undefined ? undefined : Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    await run(rest);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code?.startsWith('ERR_PARSE_ARGS') || e instanceof UsageError) {
      console.error(`xssab: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    const known = e instanceof UserError;
    console.error(`xssab: ${known ? '' : 'internal error: '}${err.message ?? String(e)}`);
    // What onnxruntime said in full, as a fallback's details are shown.
    if (e instanceof RunError && rest.includes('--verbose')) console.error(e.detail.trim().replace(/^/gm, 'xssab: debug: '));
    if (!known && process.env.XSSAB_DEBUG) console.error(err.stack);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
