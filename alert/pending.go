package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Pending alerts (holding for their rule's "for" duration) are saved as one console setting, so a
// restart does not send every hold back to zero: a 30-minute hold interrupted at minute 25 fires five
// observed minutes after the restart. As in Prometheus, the time the console was down does not count
// as held, and after a long outage the holds start again.
const (
	pendingSettingKey = "alert.pending"
	// pendingOutageTolerance is the longest outage after which a hold resumes.
	pendingOutageTolerance = time.Hour
	// maxSavedPending bounds the setting (a TEXT column): the holds closest to firing are kept.
	maxSavedPending = 500
)

// pendingRecord is one saved hold: when it began, when the condition was last seen, in which cluster.
type pendingRecord struct {
	ActiveAt int64  `json:"a"` // Unix ms
	SeenAt   int64  `json:"s"` // Unix ms
	Cluster  string `json:"c"`
}

// resumedAt is the hold's start moved forward by the time nobody was looking, so that only observed
// time counts towards "for"; after an outage over the tolerance the hold starts now.
func (p pendingRecord) resumedAt(now time.Time) time.Time {
	down := max(now.Sub(time.UnixMilli(p.SeenAt)), 0)
	if down > pendingOutageTolerance {
		return now
	}
	return time.UnixMilli(p.ActiveAt).Add(down)
}

// restorePending loads the holds saved by the previous run.
func (e *Evaluator) restorePending(ctx context.Context) error {
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	v, ok, err := e.store.Setting(sctx, pendingSettingKey)
	if err != nil || !ok {
		return err
	}
	var saved map[string]pendingRecord
	if err := json.Unmarshal([]byte(v), &saved); err != nil {
		return fmt.Errorf("decoding saved pending alerts: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for fp, p := range saved {
		e.restoredPending[fp] = p
	}
	e.pendingSaved = len(saved) > 0
	return nil
}

// savePending writes the current holds, or clears them once none is left. e.mu must be held.
func (e *Evaluator) savePending(ctx context.Context) error {
	recs := map[string]pendingRecord{}
	for fp, a := range e.alerts {
		if a.state == statePending {
			recs[fp] = pendingRecord{ActiveAt: a.activeAt.UnixMilli(), SeenAt: a.seenAt.UnixMilli(), Cluster: a.cluster}
		}
	}
	// Holds restored but not yet re-evaluated (their cluster has not reported since) stay saved.
	for fp, p := range e.restoredPending {
		if _, ok := recs[fp]; !ok {
			recs[fp] = p
		}
	}
	if len(recs) == 0 && !e.pendingSaved {
		return nil
	}
	if len(recs) > maxSavedPending {
		fps := make([]string, 0, len(recs))
		for fp := range recs {
			fps = append(fps, fp)
		}
		sort.Slice(fps, func(i, j int) bool { return recs[fps[i]].ActiveAt < recs[fps[j]].ActiveAt })
		for _, fp := range fps[maxSavedPending:] {
			delete(recs, fp)
		}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return fmt.Errorf("encoding pending alerts: %w", err)
	}
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	if err := e.store.SetSetting(sctx, pendingSettingKey, string(b)); err != nil {
		return fmt.Errorf("saving pending alerts: %w", err)
	}
	e.pendingSaved = len(recs) > 0
	return nil
}
