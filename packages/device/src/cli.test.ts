/**
 * `noxy-device` without a relay: argument and pairing-link parsing, usage errors. The CLI
 * against a real relay, in process and as the built bin, is tested in test/e2e/device-cli.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs, parsePairingLink } from './cli/args.js';
import type { CliIo } from './cli/io.js';
import { runCli } from './cli/main.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('argument parsing', () => {
  it('parses a pairing link', () => {
    const link = 'noxy://pair?relay=http%3A%2F%2F127.0.0.1%3A7070&app=app_1&type=email&id=a%2Bb%40c.co&code=ABCD-1234';
    expect(parsePairingLink(link)).toEqual({
      relayUrl: 'http://127.0.0.1:7070',
      appId: 'app_1',
      identityType: 'email',
      identityId: 'a+b@c.co',
      code: 'ABCD-1234',
    });
  });

  it('refuses bad links without echoing the code', () => {
    for (const bad of [
      'https://x/pair?code=SECRET1',
      'noxy://pair?relay=x&app=a&type=bogus&id=i&code=SECRET1',
      'noxy://pair?relay=x&app=a&type=email&code=SECRET1',
      'not a url',
    ]) {
      try {
        parsePairingLink(bad);
        expect.unreachable(bad);
      } catch (e) {
        expect((e as Error).name).toBe('UsageError');
        expect((e as Error).message).not.toContain('SECRET1');
      }
    }
  });

  it('validates flags', () => {
    expect(parseCliArgs(['listen', '--auto', 'approve', '--delay', '250', '--max', '2'])).toMatchObject({
      command: 'listen',
      auto: 'approve',
      delayMs: 250,
      max: 2,
    });
    expect(() => parseCliArgs(['listen', '--auto', 'maybe'])).toThrowError(/--auto must be approve or reject/);
    expect(() => parseCliArgs(['listen', '--delay', '-5'])).toThrowError(/--delay/);
    expect(() => parseCliArgs(['listen', '--max', '0'])).toThrowError(/--max/);
    expect(() => parseCliArgs(['listen', '--bogus'])).toThrowError(/bogus/);
  });
});

/** An in-memory {@link CliIo} that keeps what the CLI prints. */
function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    stdin: new PassThrough(),
    env: {},
    signal: new AbortController().signal,
  };
  return { io, out, err };
}

describe('usage errors', () => {
  it('exits 2 on usage errors and 1 when not paired', async () => {
    const c = captureIo();
    expect(await runCli(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/unknown command/);
    const dir = await mkdtemp(join(tmpdir(), 'noxy-device-empty-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const d = captureIo();
    expect(await runCli(['listen', '--data-dir', dir], d.io)).toBe(2);
    expect(d.err[0]).toMatch(/no pairing/);
    const e = captureIo();
    expect(
      await runCli(
        [
          'pair',
          '--relay',
          'http://127.0.0.1:1',
          '--app',
          'a',
          '--identity',
          'not an email@',
          '--code',
          'x',
          '--data-dir',
          dir,
        ],
        e.io,
      ),
    ).toBe(2);
  });
});
