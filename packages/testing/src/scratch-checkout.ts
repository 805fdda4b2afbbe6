/**
 * A scratch copy of this checkout as it is right after `npm ci`: every file git tracks (or
 * would track), no build output, and a `node_modules` that is the real one's install — its
 * third-party packages linked to the real ones (so nothing is downloaded or built), its links
 * to the workspace packages and its `.bin` entries re-created relative, so that they point
 * into the copy. A test can then run the README's commands in it, exactly as printed, and see
 * what a newcomer sees before any `npm run build`.
 * @module
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A scratch checkout; `remove` deletes it. */
export interface ScratchCheckout {
  readonly dir: string;
  remove(): void;
}

/**
 * Copies the checkout at `root` into a new temporary folder.
 * @param root the repository root (with an installed node_modules)
 */
export function makeScratchCheckout(root: string): ScratchCheckout {
  const dir = mkdtempSync(join(tmpdir(), 'noxy-fresh-'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of new Set(listed.split('\0').filter(Boolean))) {
    const from = join(root, file);
    // The index can list a file deleted in the work tree; the copy mirrors the work tree.
    if (!existsSync(from) || !lstatSync(from).isFile()) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(from, join(dir, file)); // libuv keeps the mode: the bin shims stay executable
  }
  mirrorNodeModules(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Re-creates `from` at `to`: a symlink stays the same (relative) symlink, so workspace links
 * and `.bin` entries resolve inside the copy; a real package becomes a link to the original.
 * Scope folders and `.bin` are walked one level down, because they mix the two.
 */
function mirrorNodeModules(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const target = join(to, name);
    const stat = lstatSync(source);
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (stat.isDirectory() && (name === '.bin' || name.startsWith('@'))) mirrorNodeModules(source, target);
    else symlinkSync(source, target);
  }
}
