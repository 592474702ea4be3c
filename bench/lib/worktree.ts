// A commit to compare with, checked out in a temporary git worktree that borrows this tree's
// node_modules (a symlink), so its bundle is built by the same wrangler. Nothing in the main work
// tree is touched; the worktree is removed again by remove().
import { execFile } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './runtime.ts';

const run = promisify(execFile);
const git = (...args: string[]) => run('git', args, { cwd: ROOT, timeout: 60_000 });

export interface Worktree {
  root: string;
  commit: string;
  remove: () => Promise<void>;
}

export async function addWorktree(rev: string, dir: string): Promise<Worktree> {
  const commit = (await git('rev-parse', '--short', `${rev}^{commit}`)).stdout.trim();
  await git('worktree', 'add', '--detach', dir, commit);
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    root: dir,
    commit,
    remove: async () => {
      await git('worktree', 'remove', '--force', dir).catch(() => {});
      await git('worktree', 'prune').catch(() => {});
    },
  };
}
