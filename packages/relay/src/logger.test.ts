import { describe, expect, it } from 'vitest';
import { createConsoleLogger, redactFields } from './logger.js';

describe('logger', () => {
  it('redacts secret-looking fields whatever the call site passes', () => {
    expect(
      redactFields({
        appToken: 'noxy_at_x',
        signingSecret: 's',
        code: 'ABC',
        ciphertext: 'c',
        pqPublicKey: 'k',
        nonce: 'n',
        appId: 'app_1',
        errorCode: 'E',
        count: 3,
      }),
    ).toEqual({
      appToken: '[redacted]',
      signingSecret: '[redacted]',
      code: '[redacted]',
      ciphertext: '[redacted]',
      pqPublicKey: '[redacted]',
      nonce: '[redacted]',
      appId: 'app_1',
      errorCode: 'E',
      count: 3,
    });
  });

  it('prints at or above its level, one line each', () => {
    const lines: string[] = [];
    const log = createConsoleLogger('warn', (l) => lines.push(l));
    log.info('hidden');
    log.warn('shown', { decisionId: 'd1', authorization: 'Bearer t' });
    expect(lines).toEqual(['[noxy-relay] warn shown decisionId=d1 authorization=[redacted]']);
  });
});
