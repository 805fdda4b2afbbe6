/**
 * The device Client API over gRPC: `noxy.device.DeviceService/HandleMessage`, one
 * {@link DeviceSession} per stream.
 * @module
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { device } from '@noxy-approval/proto';
import { DeviceSession, type SessionContext } from './device-session.js';
import { MalformedRequest } from './grpc-util.js';

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
    const session = new DeviceSession(
      ctx,
      (response) => {
        if (!call.writableEnded && !call.destroyed) call.write(response);
      },
      `grpc#${++counter}`,
    );
    ctx.logger.debug('device stream opened', { connection: session.label });
    call.on('data', (message: device.DeviceRequest | MalformedRequest) => {
      if (message instanceof MalformedRequest) session.malformed('', `malformed DeviceRequest: ${message.reason}`);
      else session.handle(message);
    });
    const finish = (why: string) => {
      if (!streams.delete(stream)) return;
      session.close();
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
