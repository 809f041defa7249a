// The suite's entry, in the `run()` shape that VS Code's test runners load (code-server's
// payload and @vscode/test-electron alike). The tests are bundled into this file.
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false });
  mocha.suite.emit('pre-require', globalThis, 'extension.test.ts', mocha);
  require('./extension.test');
  mocha.suite.emit('pre-require', globalThis, 'tasks.test.ts', mocha);
  require('./tasks.test');
  mocha.suite.emit('pre-require', globalThis, 'pairList.test.ts', mocha);
  require('./pairList.test');
  mocha.suite.emit('pre-require', globalThis, 'samples.test.ts', mocha);
  require('./samples.test');
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} end-to-end test(s) failed`)) : resolve()));
  });
}
