// Type declarations for @ssebridge/publisher (see index.js for the promises).
import { EventEmitter } from 'node:events';
import { status as grpcStatus, ChannelOptions } from '@grpc/grpc-js';

export declare const status: typeof grpcStatus;
export declare const DEFAULT_PROTO_DIR: string;

export interface PublishRequest {
  channel: string;
  /** SSE event type; empty or absent means "message". */
  event?: string;
  /** A string is sent as is; any other value as its JSON text. */
  data: unknown;
  /** Deliver only to these users' streams. */
  userIds?: string[];
  /** Keep as the channel's latest value for this event type and audience. */
  retain?: boolean;
  idempotencyKey?: string;
}

export interface Ack {
  /** "<epoch>-<seq>" */
  id: string;
  subscribers: number;
  /** True when this answers a repeated idempotency key: nothing was published. */
  replayed: boolean;
  publishedAt: Date | null;
}

export declare class PublishError extends Error {
  /** gRPC status code (status.*). */
  readonly code: number;
  readonly codeName: string;
  /** The bridge's message. */
  readonly details: string;
}

export interface PublisherOptions {
  target: string;
  token?: string;
  tls?: boolean | { rootCerts?: Buffer; privateKey?: Buffer; certChain?: Buffer };
  timeoutMs?: number;
  protoDir?: string;
  channelOptions?: ChannelOptions;
}

export interface PublishStreamOptions {
  /** Requests written and unacknowledged at once (default 64). */
  maxInFlight?: number;
  /** 'auto' (default): generate an idempotency key per request so resends after a reconnect are not published twice. */
  idempotency?: 'auto' | 'none';
  reconnect?: { initialMs?: number; maxMs?: number; maxAttempts?: number };
}

export declare class Publisher {
  constructor(options: PublisherOptions);
  publish(request: PublishRequest, options?: { timeoutMs?: number }): Promise<Ack>;
  stream(options?: PublishStreamOptions): PublishStream;
  close(): void;
}

export declare class PublishStream extends EventEmitter {
  readonly inFlight: number;
  readonly queued: number;
  readonly maxInFlight: number;
  send(request: PublishRequest): Promise<Ack>;
  ready(): Promise<void>;
  flush(): Promise<void>;
  end(): Promise<void>;
  close(): void;
  on(event: 'connected', listener: () => void): this;
  on(event: 'disconnected' | 'failed', listener: (err: PublishError) => void): this;
}

export declare function toPublishRequest(request: PublishRequest): Required<Omit<PublishRequest, 'data'>> & { data: string };
