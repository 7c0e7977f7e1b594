import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, httpStatusFor } from '../../domain/errors.js';
import type { ErrorBody } from './error-handler.js';

/** What Node's HTTP parser reports (Fastify's `ConnectionError`, the part read here). */
interface ClientError extends Error {
  readonly code?: string;
}

/** The coded answer to a request Node's HTTP parser refused. */
export function clientErrorBody(err: ClientError): ErrorBody {
  const refuse = (code: ErrorCode, message: string): ErrorBody => ({ code, message });
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return refuse('HEADERS_TOO_LARGE', 'request headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return refuse('REQUEST_TIMEOUT', 'the request did not arrive in time');
    default:
      return refuse('BAD_REQUEST', 'malformed HTTP request');
  }
}

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refused (bad Content-Length, both
 * Content-Length and Transfer-Encoding, a bad chunk, oversized headers) gets the same coded JSON
 * body as every other error, then the connection closes (RFC 9112 §6.3: the framing is unknown).
 * Nothing of the raw packet is logged or echoed: it may hold a token.
 */
export function answerClientError(err: ClientError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const body = clientErrorBody(err);
    const status = httpStatusFor(body.code);
    const json = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy();
}
