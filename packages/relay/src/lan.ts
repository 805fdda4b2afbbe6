/**
 * Serving the web approval page to a phone on the same network: the LAN address to bind
 * (`noxy-relay start --lan`), the warning printed for it, and a self-signed certificate
 * (`--tls-self-signed`, package `selfsigned`) for HTTPS/WSS on that address.
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';

/**
 * The first non-internal IPv4 address of this machine, or undefined when there is none.
 * @param interfaces `os.networkInterfaces()` by default (injectable for tests)
 */
export function firstLanAddress(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string | undefined {
  for (const name of Object.keys(interfaces).sort()) {
    for (const info of interfaces[name] ?? []) {
      // Node 18.0–18.3 reported family as a number.
      const v4 = info.family === 'IPv4' || (info.family as unknown) === 4;
      if (v4 && !info.internal && !info.address.startsWith('169.254.')) return info.address;
    }
  }
  return undefined;
}

/**
 * The warning printed by `noxy-relay start --lan`.
 * @param host the LAN address bound
 * @param tls whether HTTPS/WSS is on
 */
export function lanWarning(host: string, tls: 'none' | 'self-signed' | 'files'): string {
  const lines = [
    `WARNING: the relay listens on ${host}, reachable by every machine on this network (not only this one).`,
  ];
  if (tls === 'none') {
    lines.push(
      '  No TLS: the pairing link, sessions and answers travel in CLEAR TEXT on the network (decisions stay',
      '  end-to-end encrypted). Use it only on a network you trust, or add --tls-self-signed.',
      '  Over plain http the page has no WebCrypto; it uses noble AES-GCM instead.',
    );
  } else if (tls === 'self-signed') {
    lines.push(
      '  TLS with a SELF-SIGNED certificate: the browser will warn once; check the fingerprint below before',
      '  accepting it. Agents must trust this certificate to use the gRPC port.',
    );
  }
  lines.push('  Stop the relay (Ctrl-C) when you are done.');
  return lines.join('\n');
}

/** A generated certificate. */
export interface SelfSignedCert {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, colon-separated hex (what browsers show). */
  fingerprint256: string;
}

/**
 * Generates a self-signed certificate (EC P-256, SHA-256, 30 days) valid for `hosts` (IP
 * addresses or DNS names), plus localhost and 127.0.0.1.
 * @param hosts the addresses the relay is reached by
 */
export async function selfSignedCert(hosts: readonly string[], now = new Date()): Promise<SelfSignedCert> {
  const { generate } = await import('selfsigned');
  const names = [...new Set([...hosts, 'localhost', '127.0.0.1'])];
  const altNames = names.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
  const pems = await generate([{ name: 'commonName', value: names[0]! }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}

/** The `noxy-relay start` flags that decide the bind address and TLS. */
export interface BindFlags {
  host?: string | undefined;
  lan?: boolean | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
  'tls-self-signed'?: boolean | undefined;
}

/** A flag mistake (the CLI prints it with the usage text). */
export class FlagError extends Error {}

/**
 * Where `start` binds and with which TLS material (flags `--host`, `--lan`, `--tls-*`).
 * @param dir the data folder (a self-signed certificate is kept there and reused)
 * @param lanAddress finds the LAN address (injectable for tests)
 * @throws FlagError for contradictory flags or when `--lan` finds no address
 */
export async function bindPlan(
  v: BindFlags,
  dir: string,
  lanAddress: () => string | undefined = firstLanAddress,
): Promise<{
  host: string;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  tlsKind: 'none' | 'self-signed' | 'files';
  fingerprint?: string;
}> {
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined))
    throw new FlagError('--tls-cert and --tls-key go together');
  if (v['tls-self-signed'] && v['tls-cert']) throw new FlagError('--tls-self-signed replaces --tls-cert/--tls-key');
  let host = v.host ?? '127.0.0.1';
  if (v.lan && v.host === undefined) {
    const found = lanAddress();
    if (!found) throw new FlagError('--lan found no non-internal IPv4 address; pass --host ADDR');
    host = found;
  }
  if (v['tls-cert'] && v['tls-key']) {
    return { host, tls: { cert: readFileSync(v['tls-cert']), key: readFileSync(v['tls-key']) }, tlsKind: 'files' };
  }
  if (!v['tls-self-signed']) return { host, tls: undefined, tlsKind: 'none' };
  const c = await reusableSelfSigned(dir, host);
  return { host, tls: { cert: c.cert, key: c.key }, tlsKind: 'self-signed', fingerprint: c.fingerprint256 };
}

// The self-signed certificate is kept in the data folder, so a phone accepts it once, not per restart.
async function reusableSelfSigned(dir: string, host: string): Promise<SelfSignedCert> {
  const certFile = join(dir, 'tls-self-signed.cert.pem');
  const keyFile = join(dir, 'tls-self-signed.key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    const x = new X509Certificate(cert);
    const covers = isIP(host) ? x.checkIP(host) !== undefined : x.checkHost(host) !== undefined;
    if (covers && Date.parse(x.validTo) > Date.now() + 86_400_000)
      return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint256: x.fingerprint256 };
  }
  const made = await selfSignedCert([host]);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  writeFileSync(certFile, made.cert, { mode: 0o644 });
  return made;
}
