// Loaded before the unit tests (.mocharc): the engine's cache goes to a folder of the run's own, so
// the tests neither read a user's cache nor leave files in it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

process.env.XSSAB_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-test-cache-'));
