package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/prometheus/client_golang/prometheus"
)

// The transaction coordinator owns the transactional ids whose
// __transaction_state partition this broker leads, as Kafka's
// TransactionCoordinator: the partition of an id is
// abs(javaHashCode(id)) % partitions, found by FindCoordinator key type 1.
// A broker that becomes a partition's leader reads its log before it
// answers for the partition's ids (and resumes the markers of the
// transactions left in a Prepare state); requests for ids of a partition
// led elsewhere get NOT_COORDINATOR.
//
// Every state change is written to the partition (acks=all) before it is
// applied in memory and answered. Ending a transaction writes its Prepare
// state, then a marker to each of its partitions (directly when this
// broker leads the partition, else with WriteTxnMarkers to its leader),
// then the Complete state.

const txnStateTopic = "__transaction_state"

// txnEntry is one transactional id. mu guards the fields below it and is
// held across the write of a new state, so the changes of one id are
// serialised.
type txnEntry struct {
	partition int32

	mu      sync.Mutex
	removed bool // expired and dropped from the map: a request holding it retries
	known   bool // m holds a written state (false: id seen, nothing written yet)
	m       txn.Metadata
	// done is closed when the markers of the current Prepare state are
	// written and its Complete state is; nil when no end is under way.
	done chan struct{}
}

// txnCoordinator owns the transactional ids this broker coordinates.
type txnCoordinator struct {
	b *Broker

	mu sync.Mutex // guards txns and loaded
	// txns holds the ids of loaded partitions (and of partitions whose
	// leadership moved away, until their next load drops them).
	txns map[string]*txnEntry
	// loaded maps a partition to the leader epoch it was loaded at; a
	// request seeing another epoch reloads it.
	loaded map[int32]int32

	loadMu sync.Mutex // serialises partition loads

	createMu sync.Mutex // one creation of __transaction_state at a time
	since    time.Time  // when the coordinator started (creation waits for the first brokers)

	expired prometheus.Counter // transactions aborted by their timeout (txn_metrics.go)
}

func newTxnCoordinator(b *Broker) *txnCoordinator {
	return &txnCoordinator{b: b, txns: map[string]*txnEntry{}, loaded: map[int32]int32{}, since: time.Now()}
}

// start launches the loop that aborts expired transactions; it ends with
// the broker's context.
func (tc *txnCoordinator) start() {
	tc.registerTxnMetrics()
	tc.b.wg.Add(1)
	go tc.expireLoop()
}

// partitions is the partition count of __transaction_state, 0 while it
// does not exist.
func (tc *txnCoordinator) partitions() int32 {
	t, ok := tc.b.cluster.Topic(txnStateTopic)
	if !ok {
		return 0
	}
	return int32(len(t.Partitions))
}

// txnCoordinatorFor finds the broker leading txnID's partition. A missing
// __transaction_state is created in the background (as Kafka does on the
// first FindCoordinator for a transactional id); the client retries.
func (b *Broker) txnCoordinatorFor(txnID string) (BrokerInfo, bool) {
	t, ok := b.cluster.Topic(txnStateTopic)
	if !ok || len(t.Partitions) == 0 {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
			defer cancel()
			b.txns.createStateTopic(ctx)
		}()
		return BrokerInfo{}, false
	}
	leader := t.Partitions[groupPartition(txnID, int32(len(t.Partitions)))].Leader
	for _, bi := range b.cluster.Brokers() {
		if bi.ID == leader {
			return bi, true
		}
	}
	return BrokerInfo{}, false
}

// stateTopicWait is how long after start the creation of
// __transaction_state waits for transaction.state.log.replication.factor
// brokers before it settles for the ones there are.
const stateTopicWait = time.Minute

// createStateTopic creates __transaction_state with the configured
// partitions and replication factor. The first brokers of a cluster start
// one by one: with fewer live brokers than the replication factor it waits
// (the client gets COORDINATOR_NOT_AVAILABLE and retries) until a minute
// after start, then uses the brokers there are, as the offsets topic does.
// A single-broker runtime uses itself at once.
func (tc *txnCoordinator) createStateTopic(ctx context.Context) {
	if !tc.createMu.TryLock() {
		return // another request is creating it; the client retries
	}
	defer tc.createMu.Unlock()
	if _, ok := tc.b.cluster.Topic(txnStateTopic); ok {
		return
	}
	cfg := tc.b.cfg
	live := int16(len(tc.b.cluster.Brokers()))
	_, single := tc.b.cluster.(*localCluster)
	if live < cfg.Txn.StateLogRF && !single && time.Since(tc.since) < stateTopicWait {
		return
	}
	rf := max(1, min(cfg.Txn.StateLogRF, live))
	_, err := tc.b.cluster.CreateTopic(ctx, TopicSpec{Name: txnStateTopic, Partitions: cfg.Txn.StateLogPartitions,
		ReplicationFactor: rf, Internal: true, Configs: cfg.txnStateTopicConfigs()}, false)
	if err != nil && !errors.Is(err, ErrTopicExists) {
		tc.b.log.Warn("creating transaction state topic", "err", err)
	}
}

// entry returns txnID's entry once its partition is loaded, creating an
// empty one when create is set; else an error code (NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE, INVALID_PRODUCER_ID_MAPPING for an unknown
// id).
func (tc *txnCoordinator) entry(txnID string, create bool) (*txnEntry, int16) {
	if txnID == "" {
		return nil, errInvalidRequest
	}
	n := tc.partitions()
	if n == 0 {
		return nil, errCoordinatorNotAvail
	}
	idx := groupPartition(txnID, n)
	p := tc.b.data.get(txnStateTopic, idx)
	if p == nil {
		return nil, errNotCoordinator
	}
	p.mu.Lock()
	leader, epoch := p.rep.isLeader, p.leaderEpoch
	p.mu.Unlock()
	if !leader {
		return nil, errNotCoordinator
	}
	if err := tc.ensureLoaded(idx, p, epoch); err != nil {
		tc.b.log.Error("loading transaction state", "partition", idx, "err", err)
		return nil, errCoordinatorNotAvail
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e := tc.txns[txnID]
	if e == nil {
		if !create {
			return nil, errInvalidProducerIDMapping
		}
		e = &txnEntry{partition: idx}
		tc.txns[txnID] = e
	}
	return e, 0
}

// ensureLoaded reads partition idx's log into entries unless it was
// loaded at leader epoch epoch already.
func (tc *txnCoordinator) ensureLoaded(idx int32, p *partition, epoch int32) error {
	tc.mu.Lock()
	at, ok := tc.loaded[idx]
	tc.mu.Unlock()
	if ok && at == epoch {
		return nil
	}
	tc.loadMu.Lock()
	defer tc.loadMu.Unlock()
	tc.mu.Lock()
	at, ok = tc.loaded[idx]
	tc.mu.Unlock()
	if ok && at == epoch {
		return nil
	}
	states, err := readTxnStates(p)
	if err != nil {
		return err
	}
	tc.mu.Lock()
	for id, e := range tc.txns {
		if e.partition == idx {
			delete(tc.txns, id)
		}
	}
	var resume []*txnEntry
	for id, m := range states {
		e := &txnEntry{partition: idx, known: true, m: m}
		tc.txns[id] = e
		if m.State.Preparing() {
			resume = append(resume, e)
		}
	}
	tc.loaded[idx] = epoch
	tc.mu.Unlock()
	for _, e := range resume {
		e.mu.Lock()
		tc.startFinishLocked(e)
		e.mu.Unlock()
	}
	tc.b.log.Info("took over transactional ids", "partition", idx, "ids", len(states), "resumed", len(resume))
	return nil
}

// readTxnStates replays a __transaction_state partition's log: the last
// record of each id wins, a tombstone removes it.
func readTxnStates(p *partition) (map[string]txn.Metadata, error) {
	states := map[string]txn.Metadata{}
	err := p.eachBatch(func(_ batchHeader, base int64, batch []byte) error {
		err := decodeBatchRecords(batch, func(k, v []byte) {
			id, m, ok, err := txn.Decode(k, v)
			switch {
			case err != nil:
			case ok:
				states[id] = m
			default:
				delete(states, id)
			}
		})
		if err != nil {
			return fmt.Errorf("batch of %s-%d at %d: %w", txnStateTopic, p.index, base, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return states, nil
}

// write appends m to e's partition and waits for the ISR. e.mu held.
func (tc *txnCoordinator) write(e *txnEntry, m txn.Metadata) int16 {
	p := tc.b.data.get(txnStateTopic, e.partition)
	if p == nil {
		return errNotCoordinator
	}
	ctx, cancel := context.WithTimeout(tc.b.ctx, 10*time.Second)
	defer cancel()
	rec := kvRecord{key: txn.Key(m.TxnID), value: txn.Value(m)}
	return p.appendInternalReplicated(ctx, buildBatch([]kvRecord{rec}, time.Now().UnixMilli()))
}

// current returns e's metadata, nil for an id with nothing written.
// e.mu held.
func (e *txnEntry) current() *txn.Metadata {
	if !e.known {
		return nil
	}
	m := e.m.Clone()
	return &m
}

// initProducer serves InitProducerId for a transactional id.
func (tc *txnCoordinator) initProducer(txnID string, timeoutMs int32, pid int64, epoch int16) (int64, int16, int16) {
	e, code := tc.entry(txnID, true)
	if code != 0 {
		return -1, -1, code
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return -1, -1, errConcurrentTxns
	}
	res := txn.Init(txnID, e.current(), txn.InitRequest{TimeoutMs: timeoutMs,
		MaxTimeoutMs: int32(tc.b.cfg.Txn.MaxTimeout.Milliseconds()), ProducerID: pid, Epoch: epoch,
		NowMs: time.Now().UnixMilli()}, tc.b.pids.allocate)
	if res.Next == nil {
		return -1, -1, res.Code
	}
	if code := tc.write(e, *res.Next); code != 0 {
		return -1, -1, code
	}
	e.m, e.known = *res.Next, true
	if res.Abort {
		tc.startFinishLocked(e)
		return -1, -1, res.Code
	}
	return e.m.ProducerID, e.m.Epoch, 0
}

// addPartitions serves AddPartitionsToTxn and AddOffsetsToTxn.
func (tc *txnCoordinator) addPartitions(txnID string, pid int64, epoch int16, tps []txn.TP) int16 {
	e, code := tc.entry(txnID, false)
	if code != 0 {
		return code
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return errConcurrentTxns
	}
	next, code := txn.AddPartitions(e.current(), pid, epoch, tps, time.Now().UnixMilli())
	if code != 0 || next == nil {
		return code
	}
	if code := tc.write(e, *next); code != 0 {
		return code
	}
	e.m = *next
	return 0
}

// endTxn serves EndTxn: it writes the Prepare state and answers once the
// markers and the Complete state are written, or when ctx ends (the
// decision is durable; the markers keep being retried).
func (tc *txnCoordinator) endTxn(ctx context.Context, txnID string, pid int64, epoch int16, commit bool) int16 {
	e, code := tc.entry(txnID, false)
	if code != 0 {
		return code
	}
	e.mu.Lock()
	if e.removed {
		e.mu.Unlock()
		return errConcurrentTxns
	}
	res := txn.End(e.current(), pid, epoch, commit, time.Now().UnixMilli())
	if res.Code != 0 || res.Next == nil {
		e.mu.Unlock()
		return res.Code
	}
	if code := tc.write(e, *res.Next); code != 0 {
		e.mu.Unlock()
		return code
	}
	e.m = *res.Next
	done := tc.startFinishLocked(e)
	e.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return 0
}

// startFinishLocked starts writing the markers of e's Prepare state. e.mu
// held.
func (tc *txnCoordinator) startFinishLocked(e *txnEntry) chan struct{} {
	if e.done != nil {
		return e.done
	}
	done := make(chan struct{})
	e.done = done
	m := e.m.Clone()
	tc.b.wg.Add(1)
	go tc.finish(e, m, done)
	return done
}

// finish writes the markers of prepared (a Prepare state of e) until all
// are in, then the Complete state. It gives up when this broker stops
// coordinating e (the new coordinator resumes from the Prepare state in
// the log) or stops.
func (tc *txnCoordinator) finish(e *txnEntry, prepared txn.Metadata, done chan struct{}) {
	defer tc.b.wg.Done()
	defer close(done)
	defer func() {
		e.mu.Lock()
		if e.done == done {
			e.done = nil
		}
		e.mu.Unlock()
	}()
	commit := prepared.State == txn.PrepareCommit
	coordEpoch := tc.coordinatorEpoch(e.partition)
	remaining := prepared.Partitions
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		remaining = tc.b.sendMarkers(remaining, prepared.ProducerID, prepared.Epoch, commit, coordEpoch)
		if len(remaining) == 0 {
			break
		}
		if !tc.b.leadsLocally(txnStateTopic, e.partition) || !sleepCtx(tc.b.ctx, wait) {
			return
		}
	}
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		e.mu.Lock()
		if e.m.State != prepared.State || e.m.Epoch != prepared.Epoch || e.m.ProducerID != prepared.ProducerID {
			e.mu.Unlock()
			return
		}
		next := txn.Complete(e.m, time.Now().UnixMilli())
		code := tc.write(e, next)
		if code == 0 {
			e.m = next
		}
		e.mu.Unlock()
		if code == 0 || code == errNotCoordinator || !sleepCtx(tc.b.ctx, wait) {
			return
		}
	}
}

// coordinatorEpoch is the leader epoch of a __transaction_state
// partition, written in the markers.
func (tc *txnCoordinator) coordinatorEpoch(idx int32) int32 {
	if p := tc.b.data.get(txnStateTopic, idx); p != nil {
		return p.epoch()
	}
	return -1
}

// expireLoop aborts transactions open longer than their timeout.
func (tc *txnCoordinator) expireLoop() {
	defer tc.b.wg.Done()
	t := time.NewTicker(tc.b.cfg.Txn.AbortCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-tc.b.ctx.Done():
			return
		case <-t.C:
		}
		tc.abortExpired()
	}
}

func (tc *txnCoordinator) abortExpired() {
	tc.mu.Lock()
	entries := make([]*txnEntry, 0, len(tc.txns))
	for _, e := range tc.txns {
		entries = append(entries, e)
	}
	tc.mu.Unlock()
	now := time.Now().UnixMilli()
	for _, e := range entries {
		if !tc.b.leadsLocally(txnStateTopic, e.partition) {
			continue
		}
		e.mu.Lock()
		if e.known && e.done == nil && txn.IDExpired(e.m, now, tc.b.cfg.Txn.IDExpiration.Milliseconds()) {
			tc.removeLocked(e)
		}
		if e.known && e.done == nil {
			if next, ok := txn.Expired(e.m, now); ok {
				if code := tc.write(e, next); code == 0 {
					tc.b.log.Info("aborting expired transaction", "transactional_id", e.m.TxnID,
						"producer_id", e.m.ProducerID, "open_ms", now-e.m.StartMs)
					e.m = next
					tc.expired.Inc()
					tc.startFinishLocked(e)
				}
			}
		}
		e.mu.Unlock()
	}
}

// describe returns txnID's state as this coordinator has it.
func (tc *txnCoordinator) describe(txnID string) (txn.Metadata, int16) {
	e, code := tc.entry(txnID, false)
	if code == errInvalidProducerIDMapping {
		code = errTransactionalIDNotFound
	}
	if code != 0 {
		return txn.Metadata{}, code
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.known {
		return txn.Metadata{}, errTransactionalIDNotFound
	}
	return e.m.Clone(), 0
}

// list returns the state of every transactional id of the partitions this
// broker leads, loading those not loaded yet.
func (tc *txnCoordinator) list() ([]txn.Metadata, int16) {
	led := map[int32]bool{}
	for idx := range tc.partitions() {
		p := tc.b.data.get(txnStateTopic, idx)
		if p == nil {
			continue
		}
		p.mu.Lock()
		leader, epoch := p.rep.isLeader, p.leaderEpoch
		p.mu.Unlock()
		if !leader {
			continue
		}
		if err := tc.ensureLoaded(idx, p, epoch); err != nil {
			tc.b.log.Error("loading transaction state", "partition", idx, "err", err)
			return nil, errCoordinatorLoading
		}
		led[idx] = true
	}
	tc.mu.Lock()
	entries := make([]*txnEntry, 0, len(tc.txns))
	for _, e := range tc.txns {
		if led[e.partition] {
			entries = append(entries, e)
		}
	}
	tc.mu.Unlock()
	var out []txn.Metadata
	for _, e := range entries {
		e.mu.Lock()
		if e.known {
			out = append(out, e.m.Clone())
		}
		e.mu.Unlock()
	}
	return out, 0
}

// verify serves AddPartitionsToTxn VerifyOnly: the error code of each
// partition (0: in the producer's open transaction).
func (tc *txnCoordinator) verify(txnID string, pid int64, epoch int16, tps []txn.TP) []int16 {
	codes := make([]int16, len(tps))
	e, code := tc.entry(txnID, false)
	if code == 0 {
		e.mu.Lock()
		cur := e.current()
		for i, tp := range tps {
			codes[i] = txn.Verify(cur, pid, epoch, tp)
		}
		e.mu.Unlock()
		return codes
	}
	for i := range codes {
		codes[i] = code
	}
	return codes
}

// removeLocked drops an idle transactional id: a tombstone in its
// partition, then the entry. e.mu held.
func (tc *txnCoordinator) removeLocked(e *txnEntry) {
	p := tc.b.data.get(txnStateTopic, e.partition)
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(tc.b.ctx, 10*time.Second)
	defer cancel()
	if code := p.appendInternalReplicated(ctx, buildBatch([]kvRecord{{key: txn.Key(e.m.TxnID)}}, time.Now().UnixMilli())); code != 0 {
		return
	}
	tc.b.log.Info("removed idle transactional id", "transactional_id", e.m.TxnID, "producer_id", e.m.ProducerID)
	tc.mu.Lock()
	if tc.txns[e.m.TxnID] == e {
		delete(tc.txns, e.m.TxnID)
	}
	tc.mu.Unlock()
	e.removed, e.known = true, false
}
