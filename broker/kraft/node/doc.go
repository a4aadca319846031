// Package node runs one KRaft node around the quorum: the metadata log of a
// formatted metadata.log.dir replicated by broker/quorum over the Kafka wire
// (broker/quorum/raftnet), replayed into immutable metadata images
// (broker/kraft/image), and, on a controller whose quorum replica leads, the
// active controller that turns requests into metadata records.
//
// What a Node does:
//   - Start checks the metadata directory (meta.properties must name this
//     node and cluster), opens the log (__cluster_metadata-0), the
//     quorum-state file and bootstrap.checkpoint, and starts the quorum
//     server on the CONTROLLER listener (voters from controller.quorum.voters;
//     a broker-only node is an observer).
//   - The replay goroutine follows the high watermark: each committed entry
//     holds one metadata record (Kafka's ApiMessageAndVersion frame), replayed
//     into an image.Delta; every batch of entries publishes the next Image.
//     Watch subscribers see (prev, next, delta) in log order.
//   - The controller goroutine (controllers only) becomes the active
//     controller when the quorum replica leads an epoch and the committed
//     image has reached that epoch's first entry: it activates the
//     StateMachine, writes the bootstrap records first when the log has no
//     metadata.version, and then serves requests one at a time. A request's
//     records go into the log in one quorum append, are applied at once to
//     the pending image (committed image plus everything issued since), and
//     the answer leaves when the committed image holds them (an answer
//     without records once everything issued before it is committed). Losing
//     the leadership answers NOT_CONTROLLER to every request waiting and
//     drops the pending image. Every ControllerTick it runs StateMachine.Tick
//     the same way, and with MaxIdleInterval it writes a NoOpRecord when
//     idle.
//   - Snapshots (snapshot.go): every node writes its committed image as a
//     `<offset>-<epoch>.checkpoint` after SnapshotMaxBytes of replayed
//     records (or SnapshotInterval), keeps the log from its second-newest
//     snapshot, starts from its latest one, and loads the snapshot the quorum
//     fetched from the leader (FetchSnapshot) when its log restarts past the
//     replay.
//   - The CONTROLLER listener serves, next to the quorum's own APIs,
//     ApiVersions and the controller APIs; a node that is not the active
//     controller answers them with NOT_CONTROLLER, a StateMachine failure
//     with UNKNOWN_SERVER_ERROR.
//   - ControllerRequest sends a request to the active controller (in process
//     when it is this node, else on the wire to the quorum leader's listener)
//     and retries NOT_CONTROLLER and network errors until its context ends.
//   - StartBrokerLifecycle runs a broker's side of KIP-631: registration,
//     heartbeats, unfencing once caught up, and controlled shutdown. A
//     controller registers itself (KIP-919) on its own.
//
// Goroutines and ownership:
//   - raftnet's driver owns the quorum.Node; this package reaches it only
//     through Server.Do, and learns of changes through raftnet's OnStep hook,
//     which copies the leader, epoch, state and high watermark into
//     Node.view (under Node.mu) and wakes the other goroutines.
//   - the replay goroutine owns the replay position and builds every image;
//     it hands images to the snapshot writer goroutine, which writes them and
//     deletes the log prefix through Server.Do;
//     Node.mu guards the published image, its offset and the subscribers.
//   - the controller goroutine owns the StateMachine and the active
//     controller's state (epoch, pending image, requests waiting for commit).
//   - one goroutine per Watch subscriber delivers its events in order.
//   - one goroutine per broker lifecycle sends registration and heartbeats,
//     and one per controller sends its ControllerRegistration.
//
// Close stops all of them, then the quorum server, then closes the log.
package node
