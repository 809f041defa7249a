// The command line's argument parsers: --shard i/n and --shard auto from a scheduler's variables.
import * as assert from 'assert';
import { shard } from '../../src/cli/args';

describe('--shard', () => {
  it('takes i/n', () => {
    assert.deepStrictEqual(shard('2/3', {}), { index: 2, count: 3 });
    assert.strictEqual(shard(undefined, {}), undefined);
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1/2/3']) assert.throws(() => shard(bad, {}), /--shard must be i\/n with 1 ≤ i ≤ n, or auto/);
  });

  it('auto: the task of a Slurm job array, counted from its first index', () => {
    assert.deepStrictEqual(shard('auto', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 1, count: 4 });
    assert.deepStrictEqual(shard('auto', { SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 4, count: 4 });
    assert.throws(() => shard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), /SLURM_ARRAY_TASK_MIN is not set/);
    // --array=0-6:2 has 4 tasks with ids 0, 2, 4, 6: the 4th would be shard 7 of 4.
    assert.throws(() => shard('auto', { SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }), /task 7 of 4 does not fit/);
  });

  it('auto: the pod of a Kubernetes Indexed Job, with the count from the manifest', () => {
    assert.deepStrictEqual(shard('auto', { JOB_COMPLETION_INDEX: '0', XSSAB_SHARD_COUNT: '3' }), { index: 1, count: 3 });
    assert.deepStrictEqual(shard('auto', { JOB_COMPLETION_INDEX: '2', XSSAB_SHARD_COUNT: '3' }), { index: 3, count: 3 });
    assert.throws(() => shard('auto', { JOB_COMPLETION_INDEX: '2' }), /XSSAB_SHARD_COUNT is not set/);
    assert.throws(() => shard('auto', { JOB_COMPLETION_INDEX: '3', XSSAB_SHARD_COUNT: '3' }), /task 4 of 3 does not fit/);
    assert.throws(() => shard('auto', { JOB_COMPLETION_INDEX: 'x', XSSAB_SHARD_COUNT: '3' }), /JOB_COMPLETION_INDEX is "x", not a whole number/);
    assert.throws(() => shard('auto', {}), /--shard auto needs a Slurm job array .* or a Kubernetes Indexed Job/);
  });
});
