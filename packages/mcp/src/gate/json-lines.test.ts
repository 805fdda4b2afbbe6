import { describe, expect, it } from 'vitest';
import { JsonLineBuffer, MAX_LINE_BYTES, parseMessage, serializeMessage } from './json-lines.js';

describe('json-lines framing', () => {
  it('reads messages split across chunks, CRLF endings and blank lines', () => {
    const buffer = new JsonLineBuffer();
    const request = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file' } } as const;
    const line = serializeMessage(request);
    buffer.append(Buffer.from(line.slice(0, 10)));
    expect(buffer.readMessage()).toBeNull();
    buffer.append(Buffer.from(`${line.slice(10)}\n{"jsonrpc":"2.0","id":"a","result":{}}\r\n`));
    expect(buffer.readMessage()).toEqual(request);
    expect(buffer.readMessage()).toEqual({ jsonrpc: '2.0', id: 'a', result: {} });
    expect(buffer.readMessage()).toBeNull();
  });

  it('refuses what is not a JSON-RPC 2.0 request, notification or response, naming what is missing', () => {
    expect(() => parseMessage('[1]')).toThrow(/"jsonrpc": "2.0"/);
    expect(() => parseMessage('{"jsonrpc":"1.0","method":"x"}')).toThrow(/"jsonrpc": "2.0"/);
    expect(() => parseMessage('{"jsonrpc":"2.0","id":1}')).toThrow(/"result" or "error"/);
    expect(() => parseMessage('{"jsonrpc":"2.0","id":{},"result":{}}')).toThrow(/"result" or "error"/);
    expect(() => parseMessage('{"jsonrpc":"2.0","method":"x","params":[1]}')).toThrow(/"params" of x/);
    expect(() => parseMessage('{"jsonrpc":"2.0","id":1,"error":"boom"}')).toThrow(/"error" must be an object/);
    expect(() => parseMessage('{"jsonrpc":')).toThrow(SyntaxError);
  });

  it('a bad line is reported and the next line is still read', () => {
    const buffer = new JsonLineBuffer();
    buffer.append(Buffer.from('{"id":1}\n{"jsonrpc":"2.0","method":"ping"}\n'));
    expect(() => buffer.readMessage()).toThrow(/jsonrpc/);
    expect(buffer.readMessage()).toEqual({ jsonrpc: '2.0', method: 'ping' });
  });

  it('drops an unfinished line past the size bound instead of growing without limit', () => {
    const buffer = new JsonLineBuffer();
    expect(() => buffer.append(Buffer.alloc(MAX_LINE_BYTES + 1, 0x20))).toThrow(/exceeded/);
    buffer.append(Buffer.from('{"jsonrpc":"2.0","method":"ping"}\n'));
    expect(buffer.readMessage()).toEqual({ jsonrpc: '2.0', method: 'ping' });
  });
});
