/**
 * The device Client API over gRPC: `noxy.device.DeviceService/HandleMessage`, one
 * {@link DeviceSession} per stream. Every write is counted until grpc-js reports it sent
 * (outbox.ts): a device that stops reading has its stream reset at the bound, instead of the
 * relay buffering whatever is routed to it.
 * @module
 */
import { constants as http2 } from 'node:http2';
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { device } from '@noxy-approval/proto';
import { DeviceSession, type DeviceTransport, type SessionContext } from './device-session.js';
import { MalformedRequest } from './grpc-util.js';
import { Outbox, responseBytes } from './outbox.js';

interface Http2StreamLike {
  close(code: number): void;
  destroyed: boolean;
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js has no public way to reset a call:
 * ending it queues the status behind the data the peer does not read, so the bytes would stay
 * buffered. Found by shape (grpc-js 1.x keeps it at `call.call[.nextCall…].stream`), bounded.
 */
function http2StreamOf(call: object): Http2StreamLike | undefined {
  let node: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && node && typeof node === 'object'; depth++) {
    const stream = (node as { stream?: unknown }).stream;
    if (typeof stream === 'object' && stream !== null && 'rstCode' in stream && 'close' in stream) {
      if (typeof stream.close === 'function') return stream as unknown as Http2StreamLike;
    }
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Ends a call now, dropping what is buffered: RST_STREAM ENHANCE_YOUR_CALM (grpc-js clients
 * report RESOURCE_EXHAUSTED), and the call's own write queue destroyed.
 */
function resetCall(call: ServerDuplexStream<unknown, unknown>): void {
  const h2 = http2StreamOf(call);
  if (h2 && !h2.destroyed) h2.close(http2.NGHTTP2_ENHANCE_YOUR_CALM);
  call.destroy();
}

/** A gRPC stream as a session's transport, with its byte accounting. */
function grpcTransport(
  call: ServerDuplexStream<unknown, unknown>,
  outbox: Outbox,
  onOverflow: () => void,
): DeviceTransport {
  return {
    write(response) {
      if (call.writableEnded || call.destroyed) return;
      const bytes = responseBytes(response);
      if (!outbox.reserve(bytes)) return onOverflow();
      // The callback runs once grpc-js handed the frame to HTTP/2 flow control and it was sent,
      // or with an error when the call is gone: either way it no longer costs this stream.
      call.write(response, () => outbox.release(bytes));
    },
    whenWritable: (fn) => outbox.whenLow(fn),
    close: () => resetCall(call),
  };
}

/** Open device streams, so shutdown can end them. */
export type StreamSet = Set<ServerDuplexStream<unknown, unknown>>;

/**
 * The `DeviceService` implementation.
 * @param ctx shared session state
 * @param streams registry of open streams (filled and emptied here)
 */
export function deviceServiceImpl(ctx: SessionContext, streams: StreamSet): UntypedServiceImplementation {
  let counter = 0;
  const handleMessage = (
    call: ServerDuplexStream<device.DeviceRequest | MalformedRequest, device.DeviceResponse>,
  ): void => {
    const stream = call as unknown as ServerDuplexStream<unknown, unknown>;
    streams.add(stream);
    const outbox = new Outbox();
    const label = `grpc#${++counter}`;
    const overflow = () => {
      ctx.logger.warn('device stream reset: it does not read what the relay sends', {
        connection: label,
        bufferedBytes: outbox.pending,
      });
      finish('backlog over the bound');
      resetCall(stream);
    };
    const session = new DeviceSession(ctx, grpcTransport(stream, outbox, overflow), label);
    ctx.logger.debug('device stream opened', { connection: session.label });
    call.on('data', (message: device.DeviceRequest | MalformedRequest) => {
      if (message instanceof MalformedRequest) session.malformed('', `malformed DeviceRequest: ${message.reason}`);
      else session.handle(message);
    });
    const finish = (why: string) => {
      if (!streams.delete(stream)) return;
      session.close();
      outbox.clear();
      ctx.logger.debug('device stream closed', { connection: session.label, why });
    };
    call.on('end', () => {
      finish('client ended');
      if (!call.writableEnded) call.end();
    });
    call.on('cancelled', () => finish('cancelled'));
    call.on('error', () => finish('error'));
    call.on('close', () => finish('closed'));
  };
  return { handleMessage } as unknown as UntypedServiceImplementation;
}
