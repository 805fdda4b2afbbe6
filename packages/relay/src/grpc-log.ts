/**
 * grpc-js's own log output, redacted. With `GRPC_TRACE=all GRPC_VERBOSITY=DEBUG` grpc-js's
 * server trace prints every call's request headers, `authorization: Bearer <app token>`
 * included, wrong tokens too; whatever the environment, the relay must never emit a token or
 * signing secret (docs/security.md §6). The relay therefore replaces grpc-js's logger, which is
 * process-wide, before its servers start: every line grpc-js would print goes through
 * {@link redactGrpcLog} first. Tracing stays available for debugging, without the secrets.
 * @module
 */
import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';

const REDACTED = '[redacted]';

// Header values whose name says they are credentials, in grpc-js's JSON dump of headers
// (`{"authorization":["Bearer …"]}`) and in `name: value` / `name=value` text.
const SECRET_NAME = String.raw`[\w-]*(?:authorization|token|secret|cookie|api[-_]?key|password)[\w-]*`;
const JSON_HEADER = new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*)(\[[^\]]*\]|"(?:[^"\\]|\\.)*")`, 'gi');
const TEXT_HEADER = new RegExp(String.raw`(\b${SECRET_NAME}\s*[:=]\s*)(?!\[|")(?:Bearer\s+)?[^\s,;}\]]+`, 'gi');
// Whatever the framing: bearer credentials, and the relay's own token and secret formats.
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;\]}]+/gi;
const RELAY_SECRET = /\bnoxy_(at|ss)_[A-Za-z0-9_-]+/g;

/**
 * One grpc-js log line with every credential replaced by `[redacted]`.
 * @param line the text grpc-js would print
 */
export function redactGrpcLog(line: string): string {
  return line
    .replace(JSON_HEADER, `$1"${REDACTED}"`)
    .replace(TEXT_HEADER, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(RELAY_SECRET, `noxy_$1_${REDACTED}`);
}

let installed = false;

/**
 * Installs the redacting logger as grpc-js's logger (process-wide, idempotent). Lines keep
 * grpc-js's own `E`/`I`/`D` prefixes and go to stderr as before. A line that cannot be
 * redacted is not printed (fail closed).
 * @param write where lines go (tests); default stderr
 */
export function installGrpcLogRedaction(write: (line: string) => void = (l) => void process.stderr.write(l)): void {
  if (installed) return;
  installed = true;
  const emit =
    (prefix: string) =>
    (message?: unknown, ...rest: unknown[]): void => {
      let line: string;
      try {
        line = redactGrpcLog(format(message, ...rest));
      } catch {
        return;
      }
      write(`${prefix} ${line}\n`);
    };
  setLogger({ error: emit('E'), info: emit('I'), debug: emit('D') });
}
