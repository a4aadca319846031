// Package chaos is Osprey's fault suite: it runs brokers of the Osprey
// runtime as child processes, each in its own network namespace on a bridge
// the test makes, injects faults (a paused "zombie" leader, a leader cut off
// from the other brokers and the metadata quorum, ZooKeeper or the KRaft
// controller killed and restarted) under an idempotent acks=all producer
// and a read_committed consumer, and checks the recorded history
// (CheckHistory): nothing acknowledged is lost, duplicated or reordered,
// nothing unacknowledged becomes readable, committed offsets never go back.
//
// The tests need root (network namespaces, iptables); see docs/FAULTS.md.
package chaos
