/**
 * `noxy-device` commands: `pair`, `listen`, `status`, `rotate-keys`, `revoke`. `runCli` takes
 * its input and output as arguments (see io.ts) so tests drive it in-process; it never prints
 * keys, the pairing code or the signing secret.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { NoxyError, parseIdentity, type Identity } from '@noxy-approval/core';
import type { NoxyDevice } from '../device.js';
import { escapeText } from '../escape.js';
import { createNoxyDevice } from '../node-device.js';
import { asUsageError, identityOf, parseCliArgs, parsePairingLink, UsageError, type CliArgs } from './args.js';
import { errorLine, type CliIo } from './io.js';
import { listen } from './listen.js';
import { dataDirOf, keyStoreOf, loadProfile, saveProfile, type Profile } from './profile.js';

/** The help text. */
export const USAGE = `noxy-device — approve or reject AI agent actions from this terminal (Noxy device)

Usage:
  noxy-device pair <noxy://pair?…link>            pair with a one-time link from \`noxy-relay pair\`
  noxy-device pair --relay URL --app ID --identity X [--identity-type T] --code CODE
  noxy-device pair --relay URL --app ID --identity X      (app secret from NOXY_SIGNING_SECRET)
  noxy-device listen [--auto approve|reject] [--delay MS] [--max N]
  noxy-device status | rotate-keys | revoke

Options:
  --data-dir DIR        keys and pairing info (default $NOXY_DEVICE_DIR or ~/.noxy-device)
  --transport T         grpc (default) or websocket (then --relay is the relay's HTTP URL)
  --device-type T       RegisterDevice.type (default desktop)
  --auto CHOICE         answer every decision by itself (scripts, demos)
  --delay MS            with --auto: wait this long before answering
  --max N               exit after N answers
  -h, --help            this text;  --version  the version

Output (stdout, one fact per line): ready device=<id> · decision <id> (+ the rendered request)
· decided <id> approve|reject · cancelled <id> decided-elsewhere · failed <id> <code>.
Prompts and diagnostics go to stderr.`;

/** Package version, kept in step with package.json by a test. */
export const VERSION = '0.1.0';

const PAIR_TIMEOUT_MS = 20_000;

function show(s: string): string {
  return escapeText(s);
}

/** `connect()` bounded in time, so a one-shot command cannot hang on an unreachable relay. */
/**
 * Connects within the pairing timeout, then reports the device's error events as they come. The
 * failure a connect ends with is printed once, by the caller: the device also emits it as an
 * event, and a newcomer reading the same error twice thinks two things went wrong.
 */
async function connectReporting(device: NoxyDevice, io: CliIo): Promise<void> {
  const early: unknown[] = [];
  const stopCollecting = device.on('error', (e) => early.push(e));
  try {
    await connectWithin(device, PAIR_TIMEOUT_MS);
  } catch (error) {
    for (const e of early) if (errorLine(e) !== errorLine(error)) io.err(errorLine(e));
    throw error;
  } finally {
    stopCollecting();
  }
  for (const e of early) io.err(errorLine(e));
  device.on('error', (e) => io.err(errorLine(e)));
}

async function connectWithin(device: NoxyDevice, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NoxyError('RELAY_UNAVAILABLE', `could not register with the relay within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    await Promise.race([device.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function pair(args: CliArgs, io: CliIo): Promise<number> {
  let relayUrl: string;
  let appId: string;
  let identity: Identity;
  let code: string | undefined;
  const link = args.positionals[0];
  if (link !== undefined) {
    const l = parsePairingLink(link);
    relayUrl = args.relay ?? l.relayUrl;
    appId = l.appId;
    identity = { type: l.identityType, id: l.identityId };
    code = l.code;
  } else {
    if (!args.relay || !args.app) throw new UsageError('pair needs a pairing link, or --relay, --app and --identity');
    relayUrl = args.relay;
    appId = args.app;
    try {
      identity = parseIdentity(identityOf(args));
    } catch (error) {
      throw asUsageError(error);
    }
    code = args.code;
  }
  const secret = code === undefined ? io.env.NOXY_SIGNING_SECRET : undefined;
  if (code === undefined && !secret)
    throw new UsageError('pair needs --code (or a link), or the app secret in NOXY_SIGNING_SECRET');
  const transport = args.transport ?? (/^wss?:/.test(relayUrl) ? 'websocket' : 'grpc');
  const dataDir = dataDirOf(args.dataDir, io.env);
  let device: NoxyDevice;
  try {
    device = await createNoxyDevice({
      relayUrl,
      appId,
      identity,
      keyStore: keyStoreOf(dataDir),
      transport,
      ...(code !== undefined ? { pairingCode: code } : { signingSecret: secret! }),
      ...(args.deviceType ? { deviceType: args.deviceType } : {}),
    });
  } catch (error) {
    throw asUsageError(error);
  }
  try {
    await connectReporting(device, io);
  } finally {
    device.close();
  }
  await saveProfile(dataDir, { relayUrl, appId, identity, transport, deviceType: args.deviceType ?? 'desktop' });
  io.out(
    `paired device=${show(device.deviceId ?? '')} app=${show(appId)} identity=${identity.type}:${show(identity.id)}`,
  );
  return 0;
}

async function openProfile(args: CliArgs, io: CliIo): Promise<{ device: NoxyDevice; profile: Profile }> {
  const dataDir = dataDirOf(args.dataDir, io.env);
  const profile = await loadProfile(dataDir);
  if (!profile) throw new UsageError(`no pairing in ${dataDir}: run \`noxy-device pair\` first`);
  const secret = io.env.NOXY_SIGNING_SECRET;
  const device = await createNoxyDevice({
    relayUrl: args.relay ?? profile.relayUrl,
    appId: profile.appId,
    identity: profile.identity,
    keyStore: keyStoreOf(dataDir),
    transport: args.transport ?? profile.transport,
    deviceType: profile.deviceType,
    ...(secret ? { signingSecret: secret } : {}),
  });
  return { device, profile };
}

async function oneShot(args: CliArgs, io: CliIo, op: (d: NoxyDevice) => Promise<string>): Promise<number> {
  const { device } = await openProfile(args, io);
  try {
    await connectReporting(device, io);
    io.out(await op(device));
  } finally {
    device.close();
  }
  return 0;
}

async function dispatch(args: CliArgs, io: CliIo): Promise<number> {
  switch (args.command) {
    case 'pair':
      return pair(args, io);
    case 'listen': {
      const { device } = await openProfile(args, io);
      return listen(device, io, {
        ...(args.auto ? { auto: args.auto } : {}),
        delayMs: args.delayMs,
        ...(args.max ? { max: args.max } : {}),
      });
    }
    case 'status': {
      const { device, profile } = await openProfile(args, io);
      device.close();
      const fp = bytesToHex(sha256(device.publicKeys.publicKey)).slice(0, 16);
      io.out(
        `relay=${show(profile.relayUrl)} app=${show(profile.appId)} ` +
          `identity=${profile.identity.type}:${show(profile.identity.id)} transport=${profile.transport}`,
      );
      io.out(`device-key=${fp}`);
      return 0;
    }
    case 'rotate-keys':
      return oneShot(
        args,
        io,
        async (d) => `rotated device=${show(d.deviceId ?? '')} at=${(await d.rotateKeys()).rotatedAt}`,
      );
    case 'revoke':
      return oneShot(args, io, async (d) => `revoked device=${show((await d.revoke()).revokedDeviceId)}`);
    case undefined:
      throw new UsageError('a command is required');
    default:
      throw new UsageError(`unknown command "${show(args.command)}"`);
  }
}

/**
 * Runs `noxy-device` with `argv` (without node and the script path).
 * @returns the exit code: 0 done, 1 failed, 2 usage error
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.help) {
      io.out(USAGE);
      return 0;
    }
    if (args.version) {
      io.out(VERSION);
      return 0;
    }
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`noxy-device: ${show(error.message)}`);
      io.err('Try `noxy-device --help`.');
      return 2;
    }
    io.err(errorLine(error));
    return 1;
  }
}
