package alert

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

func newTestService(t *testing.T) (*Service, *harness) {
	t.Helper()
	h := newHarness(t)
	return NewService(h.ev), h
}

func TestServiceRules(t *testing.T) {
	svc, h := newTestService(t)
	ctx := context.Background()
	rcv := newReceiver(t)
	chID, err := svc.CreateChannel(ctx, ChannelInput{Name: "hook", Type: ChannelWebhook, Config: json.RawMessage(`{"url":"` + rcv.URL + `"}`)})
	if err != nil {
		t.Fatal(err)
	}

	_, err = svc.CreateRule(ctx, RuleInput{Name: "", Kind: "lag", Threshold: -1, Group: "[", RepeatSeconds: 5, ChannelIDs: []int64{99}})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	fields := map[string]bool{}
	for _, p := range ve.Problems {
		fields[p.Field] = true
	}
	for _, f := range []string{"name", "kind", "group", "threshold", "repeatSeconds"} {
		if !fields[f] {
			t.Errorf("no problem reported for %s: %v", f, err)
		}
	}
	_, err = svc.CreateRule(ctx, RuleInput{Name: "x", Kind: KindBrokerDown, ChannelIDs: []int64{99}})
	if !IsValidation(err) || !strings.Contains(err.Error(), "channel 99 does not exist") {
		t.Fatalf("missing channel: err = %v", err)
	}
	_, err = svc.CreateRule(ctx, RuleInput{Name: "x", Kind: KindBrokerDown, Topic: "orders"})
	if !IsValidation(err) || !strings.Contains(err.Error(), "does not apply to broker_down") {
		t.Fatalf("topic on broker_down: err = %v", err)
	}

	r, err := svc.CreateRule(ctx, RuleInput{Name: "brokers", Kind: KindBrokerDown, ChannelIDs: []int64{chID, chID}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || !r.Enabled || r.Cluster != "*" || r.Severity != SeverityWarning || len(r.ChannelIDs) != 1 {
		t.Fatalf("rule = %+v", r)
	}
	if _, err := svc.CreateRule(ctx, RuleInput{Name: "brokers", Kind: KindBrokerDown}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: err = %v", err)
	}
	// The new rule applies at once (no waiting for the periodic reload).
	h.observe(newSnap("c1", h.now()).broker(1, false).build())
	h.expectFiring(1)
	testenv.WaitFor(t, 5*time.Second, testenv.Until("notification", func() bool { return len(rcv.requests()) == 1 }))

	off := false
	r2, err := svc.UpdateRule(ctx, r.ID, RuleInput{Name: "brokers", Kind: KindBrokerDown, Severity: SeverityCritical, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Enabled || r2.Severity != SeverityCritical || !r2.CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("updated = %+v", r2)
	}
	// Disabling the rule resolves its alert without a notification.
	h.expectFiring(0)
	evs, total, err := svc.Events(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || evs[0].State != "resolved" || evs[0].Labels["broker"] != "1" || !json.Valid(evs[0].Samples) {
		t.Fatalf("events = %+v", evs)
	}
	if _, err := svc.UpdateRule(ctx, 999, RuleInput{Name: "x", Kind: KindBrokerDown}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: err = %v", err)
	}
	rules, err := svc.ListRules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Name != "brokers" {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	if err := svc.DeleteRule(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteRule(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: err = %v", err)
	}
}

func TestServiceChannels(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := context.Background()
	_, err := svc.CreateChannel(ctx, ChannelInput{Name: "mail", Type: ChannelEmail, Config: json.RawMessage(`{"host":"smtp.example.com"}`)})
	if !IsValidation(err) || !strings.Contains(err.Error(), "config.to") {
		t.Fatalf("err = %v", err)
	}
	rcv := newReceiver(t)
	id, err := svc.CreateChannel(ctx, ChannelInput{Name: "ding", Type: ChannelDingTalk,
		Config: json.RawMessage(`{"url":"` + rcv.URL + `/robot/send?access_token=tok-0123456789abcdef","secret":"SEC-0123456789abcdef"}`)})
	if err != nil {
		t.Fatal(err)
	}
	chans, err := svc.ListChannels(ctx)
	if err != nil || len(chans) != 1 {
		t.Fatalf("channels = %+v, %v", chans, err)
	}
	shown := string(chans[0].Config)
	if strings.Contains(shown, "tok-0123") || strings.Contains(shown, "SEC-0123") || !chans[0].Enabled {
		t.Fatalf("listed config shows secrets: %s", shown)
	}
	// The UI sends the redacted config back with a new name: secrets are kept.
	upd, err := svc.UpdateChannel(ctx, id, ChannelInput{Name: "ding-ops", Type: ChannelDingTalk, Config: chans[0].Config})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "ding-ops" || string(upd.Config) != shown {
		t.Fatalf("updated = %+v", upd)
	}
	stored, err := storeOf(svc).AlertChannel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored.Config, "tok-0123456789abcdef") || !strings.Contains(stored.Config, `"secret":"SEC-0123456789abcdef"`) {
		t.Fatalf("stored config lost its secrets: %s", stored.Config)
	}
	// TestChannel sends now, signed with the kept secret.
	if err := svc.TestChannel(ctx, id); err != nil {
		t.Fatal(err)
	}
	req := rcv.requests()[0]
	if !strings.Contains(req.URL, "access_token=tok-0123456789abcdef") || !strings.Contains(req.URL, "sign=") || !strings.Contains(string(req.Body), "TEST") {
		t.Fatalf("test request %s %s", req.URL, req.Body)
	}
	rcv.reply = `{"errcode":300001,"errmsg":"token is not exist"}`
	if err := svc.TestChannel(ctx, id); err == nil || !strings.Contains(err.Error(), "300001") {
		t.Fatalf("test against a refusing robot: err = %v", err)
	}
	if err := svc.TestChannel(ctx, 404); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("test missing: err = %v", err)
	}

	// Deleting a channel takes it out of the rules that used it.
	r, err := svc.CreateRule(ctx, RuleInput{Name: "z", Kind: KindZooKeeperDown, ChannelIDs: []int64{id}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteChannel(ctx, id); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetRule(ctx, r.ID)
	if err != nil || len(got.ChannelIDs) != 0 {
		t.Fatalf("rule after channel deletion = %+v, %v", got, err)
	}
	if _, err := svc.UpdateChannel(ctx, id, ChannelInput{Name: "x", Type: ChannelSlack, Config: json.RawMessage(`{"url":"http://x"}`)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update deleted: err = %v", err)
	}
}

func storeOf(s *Service) Store { return s.store }
