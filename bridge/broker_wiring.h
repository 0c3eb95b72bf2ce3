// The binary's broker table: every broker --broker may name, each made from
// its flags (wiring only, like main.cc). Adding a broker is one Register()
// line in BinaryBrokers() (broker_wiring.cc) plus its own folder under
// bridge/broker/<name>/. BrokerParts owns the broker; `hub` and `encoder` must
// outlive it. The broker is started here: a Redis broker starts connecting
// at once and keeps retrying, so the bridge is not ready until it is
// connected, but it starts. main.cc stops it through Broker::Stop().
#ifndef SSEBRIDGE_BROKER_WIRING_H_
#define SSEBRIDGE_BROKER_WIRING_H_

#include <memory>

#include "absl/status/status.h"
#include "bridge/broker/broker.h"
#include "bridge/broker/broker_registry.h"
#include "bridge/core/fleet.h"
#include "bridge/core/hub.h"
#include "bridge/core/ticket_vault.h"

namespace ssebridge {

struct BrokerParts {
  std::unique_ptr<Broker> owned;
  Broker& broker() const { return *owned; }
};

// The brokers the binary knows, made from the flags.
BrokerRegistry BinaryBrokers();

// OK when --broker names one of BinaryBrokers(); checked at start-up before
// anything is made, so a typo fails before the listeners open.
absl::Status CheckBrokerFlag();

// The broker --broker names, made and started. InvalidArgument naming the
// flag when a setting (--broker, --redis_url, its password) is bad.
absl::Status MakeBrokerFromFlags(Hub* hub, const EventEncoder* encoder, BrokerParts& parts);

// Where tickets live when replicas must share them: a RedisTicketVault on
// the broker's Redis (same URL, password, timeouts, prefix) for
// --broker=redis, nullptr (each replica keeps its own) otherwise.
// InvalidArgument naming the flag, as MakeBrokerFromFlags.
absl::Status MakeTicketVaultFromFlags(std::unique_ptr<TicketVault>& vault);

// What the replicas share about users' streams and their numbers: a
// RedisFleet on the broker's Redis for --broker=redis (--fleet_* flags),
// nullptr (a replica alone) otherwise. Not started: main.cc starts it once
// the writer and the Admin service it reports on exist.
absl::Status MakeFleetFromFlags(std::unique_ptr<Fleet>& fleet);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_WIRING_H_
