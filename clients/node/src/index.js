// ES module entry of @ssebridge/publisher: the same objects as require()
// gets from index.cjs (one implementation, one PublishError class).
import cjs from './index.cjs';

export const {
  status, DEFAULT_PROTO_DIR, PublishError, Publisher, PublishStream, PublishBatchStream,
  toPublishRequest,
} = cjs;
