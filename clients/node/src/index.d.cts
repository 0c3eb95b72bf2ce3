// Type declarations for @ssebridge/publisher (see index.cjs for the promises);
// index.d.ts re-exports them for import.
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

/** Options of every unary call. */
export interface CallOptions {
  /** Deadline of this call (default: the Publisher's timeoutMs). */
  timeoutMs?: number;
  /** Cancels the call: it rejects with a PublishError, code CANCELLED. */
  signal?: AbortSignal;
}

/** One answer of publishBatch: exactly one of ack and error is set. */
export type BatchResult =
  | { ack: Ack; error: null }
  | { ack: null; error: PublishError };

export interface IssueTicketRequest {
  userId: string;
  /** Channel patterns the stream may read: exact names or "prefix*". */
  channels: string[];
  /** 1 to 60; absent or 0 means 30. */
  ttlSeconds?: number;
}

export interface Ticket {
  /** Connect with GET /v1/events?channel=...&ticket=<ticket>. Works once. */
  ticket: string;
  expiresAt: Date | null;
}

/** One replica's numbers in FleetStats. */
export interface ReplicaStats {
  /** Its name (host name and a random suffix); "" in FleetStats.total. */
  replica: string;
  connections: number;
  grpcSubscribers: number;
  channels: number;
  users: number;
  published: number;
  /**
   * When they were taken: the answering replica's are current, the others'
   * as last reported. null in FleetStats.total.
   */
  reportedAt: Date | null;
}

export interface FleetStats {
  /** Every replica whose lease is live, the answering one first (--broker=memory: that one alone). */
  replicas: ReplicaStats[];
  /** Sums over replicas; a user or channel on two replicas counts twice. */
  total: ReplicaStats;
  /** Non-empty when the other replicas could not be read; replicas then holds the answering one alone. */
  error: string;
}

export interface Stats {
  connections: number;
  grpcSubscribers: number;
  channels: number;
  users: number;
  published: number;
  channelStats: { channel: string; subscribers: number }[];
  /** The answering replica's name (--broker=redis; "" with memory). */
  replica: string;
  /** Present only when getStats was called with fleet: true. */
  fleet?: FleetStats;
}

export interface GetStatsOptions extends CallOptions {
  /** Most channels in channelStats, busiest first; absent or 0 means 100. */
  maxChannels?: number;
  /** Also answer every replica's numbers (Stats.fleet). */
  fleet?: boolean;
}

export declare class Publisher {
  constructor(options: PublisherOptions);
  publish(request: PublishRequest, options?: CallOptions): Promise<Ack>;
  publishBatch(requests: PublishRequest[], options?: CallOptions): Promise<BatchResult[]>;
  issueTicket(request: IssueTicketRequest, options?: CallOptions): Promise<Ticket>;
  disconnectUser(userId: string, options?: CallOptions): Promise<number>;
  getStats(options?: GetStatsOptions): Promise<Stats>;
  stream(options?: PublishStreamOptions): PublishStream;
  /** BatchPublisher.PublishBatchStream: the same options, maxInFlight counting batches. */
  batchStream(options?: PublishStreamOptions): PublishBatchStream;
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

/**
 * BatchPublisher.PublishBatchStream: like PublishStream, a batch of up to
 * 1,000 requests per send(). Resolves with one BatchResult per request, in
 * order (as publishBatch does); rejects with PublishError only when the
 * stream failed for the whole batch.
 */
export declare class PublishBatchStream extends EventEmitter {
  /** Batches written and not yet answered. */
  readonly inFlight: number;
  /** Batches held by the client. */
  readonly queued: number;
  readonly maxInFlight: number;
  send(requests: PublishRequest[]): Promise<BatchResult[]>;
  ready(): Promise<void>;
  flush(): Promise<void>;
  end(): Promise<void>;
  close(): void;
  on(event: 'connected', listener: () => void): this;
  on(event: 'disconnected' | 'failed', listener: (err: PublishError) => void): this;
}
