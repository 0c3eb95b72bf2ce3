// TicketCodec: a TicketGrant as the bytes a shared ticket store keeps (a
// TicketVault record, e.g. a Redis value), and back.
//
// The record is read by whichever replica redeems the ticket, possibly one
// running another version, so it is versioned ("t1") and self-delimiting:
// every field is "<decimal length>:<bytes>", so user ids and patterns may
// hold any byte without escaping. Fields, in order: user id, minter, expiry
// (Unix microseconds), the number of channel patterns and each pattern,
// then "-" (not confined) or the number of confining patterns and each.
//
// Decode checks everything it reads (a record is only as trustworthy as the
// store it came from) and rebuilds the patterns with ChannelPatterns, so a
// decoded grant is one Issue could have made. Its cost is linear in the
// record, which Issue bounded (--max_ticket_channels,
// --max_ticket_pattern_bytes). No state: pure functions.
#ifndef SSEBRIDGE_AUTH_TICKET_CODEC_H_
#define SSEBRIDGE_AUTH_TICKET_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/auth/ticket_store.h"

namespace ssebridge {

std::string EncodeTicketGrant(const TicketGrant& grant);
// DATA_LOSS naming what is wrong when `record` is not one EncodeTicketGrant
// made (unknown version, truncated, bad number, bad pattern, trailing bytes).
absl::StatusOr<TicketGrant> DecodeTicketGrant(absl::string_view record);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_TICKET_CODEC_H_
