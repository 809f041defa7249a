// Runs the end-to-end suite in desktop VS Code through @vscode/test-electron, for developers
// with a VS Code at hand or with internet access:
//   VSCODE_EXECUTABLE=/path/to/code tsx test/e2e/desktop.ts   (a local VS Code)
//   tsx test/e2e/desktop.ts                                    (downloads the stable VS Code)
// Offline and in CI, test/e2e/run.ts runs the same suite in code-server instead.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { buildSuite, prepareWorkspace, repoRoot, suiteBundle } from './build';

async function main(): Promise<void> {
  await buildSuite();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-e2e-desktop-'));
  const workspaceDir = path.join(runDir, 'workspace');
  prepareWorkspace(workspaceDir);
  try {
    await runTests({
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suiteBundle,
      launchArgs: [workspaceDir, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', path.join(runDir, 'user-data')],
    });
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`[e2e desktop] ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
