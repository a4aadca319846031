// Package quorum is a KRaft quorum replica (KIP-595): leader election with Vote, BeginQuorumEpoch
// and EndQuorumEpoch, and pull-based replication of the __cluster_metadata log with Fetch, leader
// epoch validation, divergence and truncation, and a high watermark advanced by the leader from a
// majority of voters. Observers (nodes that are not voters) fetch but never vote or stand.
//
// The package does not depend on the broker. A Node is a single-threaded, deterministic state
// machine: it changes only inside Step (a delivered message), Tick (the clock moved) and the client
// calls Append and Resign, and it never starts goroutines, sleeps or reads the wall clock. Everything
// it needs from the outside comes through small interfaces:
//
//   - Transport carries kmsg requests and responses (VoteRequest, FetchRequest, …) between nodes:
//     the simulated network in the tests, and the Kafka wire in the sub-package raftnet, whose
//     Server also owns the Node (one driver goroutine) and ticks it on the wall clock.
//   - Log holds the replicated entries (opaque payloads with an offset and a leader epoch); MemLog is
//     the in-memory one, StorageLog the __cluster_metadata-0 partition of a metadata log dir on
//     broker/storage. Both pass the conformance suite in quorumtest.
//   - StateStore keeps the election state; FileStore writes Apache Kafka's quorum-state file.
//   - SnapshotStore keeps snapshots (opaque bytes with an offset-and-epoch id): MemSnapshots, and
//     FileSnapshots, Kafka's `<offset>-<epoch>.checkpoint` files. The owner writes them and calls
//     DeletePrefix; the leader serves them with FetchSnapshot to replicas behind its log start
//     (snapshot_fetch.go).
//   - Clock gives the time, and a *rand.Rand randomises election timeouts.
//
// The owner of a Node (one goroutine in production, the simulator in tests) calls it serially; Node
// has no lock.
package quorum
