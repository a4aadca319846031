package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kcatPath finds kcat (librdkafka). It is a required test dependency
// (Debian package kcat); the test fails, rather than skips, without it.
func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found (apt-get install kcat): %v", err)
	}
	return p
}

func runKcat(t *testing.T, ctx context.Context, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, kcatPath(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %v: %v\nstderr: %s", args, err, errb.String())
	}
	return out.String()
}

type kcatMsg struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Key       string   `json:"key"`
	Payload   string   `json:"payload"`
	Headers   []string `json:"headers"`
}

func parseKcatJSON(t *testing.T, out string) []kcatMsg {
	t.Helper()
	var msgs []kcatMsg
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m kcatMsg
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("kcat output %q: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// kcat (librdkafka): idempotent produce with headers, metadata (-L),
// consume (-C) and a consumer group (-G) whose offsets are committed.
func TestKcatProduceConsumeMetadataGroup(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 90*time.Second)
	addr := b.Addr()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "kc"); err != nil {
		t.Fatal(err)
	}

	var want []kcatMsg
	for p := int32(0); p < 2; p++ {
		var in strings.Builder
		for i := 0; i < 5; i++ {
			k, v := fmt.Sprintf("p%dk%d", p, i), fmt.Sprintf("p%dv%d", p, i)
			fmt.Fprintf(&in, "%s:%s\n", k, v)
			want = append(want, kcatMsg{Topic: "kc", Partition: p, Offset: int64(i), Key: k, Payload: v, Headers: []string{"src", "kcat"}})
		}
		runKcat(t, ctx, in.String(), "-b", addr, "-P", "-t", "kc", "-p", fmt.Sprint(p), "-K:", "-H", "src=kcat",
			"-X", "enable.idempotence=true")
	}

	var md struct {
		Brokers []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition int32 `json:"partition"`
				Leader    int32 `json:"leader"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal([]byte(runKcat(t, ctx, "", "-b", addr, "-L", "-J", "-t", "kc")), &md); err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].Name != addr || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 2 {
		t.Fatalf("kcat -L: %+v", md)
	}

	check := func(got []kcatMsg) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d messages, want %d: %+v", len(got), len(want), got)
		}
		next := map[int32]int{}
		for _, m := range got {
			// Order is per partition; partitions interleave.
			w := want[int(m.Partition)*5+next[m.Partition]]
			next[m.Partition]++
			if m.Key != w.Key || m.Payload != w.Payload || m.Offset != w.Offset || strings.Join(m.Headers, "=") != "src=kcat" {
				t.Fatalf("got %+v, want %+v", m, w)
			}
		}
	}
	check(parseKcatJSON(t, runKcat(t, ctx, "", "-b", addr, "-C", "-t", "kc", "-e", "-J", "-o", "beginning")))

	out := runKcat(t, ctx, "", "-b", addr, "-G", "kc-group", "kc", "-e", "-J", "-X", "auto.offset.reset=earliest")
	check(parseKcatJSON(t, out))
	offs, err := adm.FetchOffsets(ctx, "kc-group")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		if o, ok := offs.Lookup("kc", p); !ok || o.At != 5 {
			t.Fatalf("kc-group committed kc/%d = %+v, want 5", p, o)
		}
	}
}
