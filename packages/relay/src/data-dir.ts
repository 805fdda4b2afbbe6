/**
 * The relay's data folder and the files next to the store: the folder is owner-only, the run
 * file (`relay.json`, written by `noxy-relay start`) is read with a clear error when it is not
 * what `start` writes, and a configured web root must be a folder that exists.
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { NoxyError } from '@noxy-approval/core';

/** What {@link secureDataDir} did. */
export interface SecuredDir {
  /** The folder's mode before it was made 0700, when it was looser (e.g. 0o755). */
  tightenedFrom?: number;
}

/**
 * Creates the data folder with mode 0700, or makes an existing one 0700. It holds the store
 * (signing secrets, open pairing codes) and the self-signed TLS key, so no other local user
 * may list or read it. An existing looser folder (made by `mkdir`, mode 0755) is tightened
 * rather than refused: nothing in it is at risk from the change, and refusing would only make
 * every user run `chmod 700` by hand. Not possible (another user's folder) → refused.
 * @param dir an absolute folder path
 * @throws NoxyError INVALID_ARGUMENT when it is not a folder, or its mode cannot be changed
 */
export function secureDataDir(dir: string): SecuredDir {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (!st.isDirectory())
    throw new NoxyError('INVALID_ARGUMENT', `data folder ${dir} is not a folder: pass --data DIR with a folder`, {
      field: 'dataDir',
    });
  // POSIX modes only; Windows has no group/other bits to tighten.
  if (process.platform === 'win32' || (st.mode & 0o077) === 0) return {};
  try {
    chmodSync(dir, 0o700);
  } catch (error) {
    const why = error instanceof Error && 'code' in error ? String(error.code) : 'error';
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `data folder ${dir} has mode 0${(st.mode & 0o777).toString(8)} and cannot be made 0700 (${why}): ` +
        `it holds signing secrets; run \`chmod 700 ${dir}\` as its owner or pass --data with a folder of your own`,
      { field: 'dataDir' },
    );
  }
  return { tightenedFrom: st.mode & 0o777 };
}

/** What `noxy-relay start` writes to `relay.json` (all optional: older files had fewer). */
export interface RunInfo {
  grpcUrl?: string;
  httpUrl?: string;
  wsUrl?: string;
  pid?: number;
}

/**
 * Reads the run file of a running (or killed) relay.
 * @param file the path of `relay.json`
 * @returns its fields, or `{}` when there is no file
 * @throws NoxyError INVALID_ARGUMENT naming the file and the fix when it is not start's JSON
 */
export function readRunFile(file: string): RunInfo {
  if (!existsSync(file)) return {};
  const refuse = (what: string) =>
    new NoxyError(
      'INVALID_ARGUMENT',
      `${file} ${what}; it is written by \`noxy-relay start\` and only holds its URLs and pid: ` +
        `delete it (\`rm ${file}\`) and start the relay again, or pass --relay URL and --web-url URL`,
      { field: 'relay.json' },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw refuse('is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('is not a JSON object');
  const o = parsed as Record<string, unknown>;
  const info: RunInfo = {};
  for (const k of ['grpcUrl', 'httpUrl', 'wsUrl'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^(https?|wss?):\/\//.test(v)) throw refuse(`has a "${k}" that is not a URL`);
    info[k] = v;
  }
  if (o.pid !== undefined) {
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) throw refuse('has a "pid" that is not a process id');
    info.pid = o.pid as number;
  }
  return info;
}

/**
 * Refuses a configured web root that is not an existing folder, at start instead of a 404 for
 * every page later.
 * @param dir the folder to serve
 * @param field how the caller named it (`webRoot` for the API, `--web-root` for the CLI)
 * @throws NoxyError INVALID_ARGUMENT naming the folder and the fix
 */
export function assertWebRoot(dir: string, field = 'webRoot'): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  const why = existsSync(dir) ? 'not a folder' : 'missing';
  if (!isDir)
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"${field}" expected an existing folder to serve, got ${dir} (${why}): ` +
        `create it, point ${field} at the folder of your page, or leave it out for the built-in web approval page`,
      { field },
    );
}
