package admin

import (
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
)

// wantRefusal checks that err is Kafka's refusal want, as admin's own error type answering op, with no
// client library's error type in the chain.
func wantRefusal(t *testing.T, what string, err error, op string, want *kerr.Error) {
	t.Helper()
	ke, ok := errors.AsType[*KafkaError](err)
	if !ok {
		t.Errorf("%s: %v (%T), want a *KafkaError", what, err, err)
		return
	}
	if !errors.Is(err, want) || ke.Name() != want.Message || ke.Op != op {
		t.Errorf("%s: %s answering %q, want %s answering %q", what, ke.Name(), ke.Op, want.Message, op)
	}
	if _, ok := errors.AsType[*kerr.Error](err); ok {
		t.Errorf("%s: franz-go's error type is in the chain: %v", what, err)
	}
}

// Every kind of call reports Kafka's refusals as a KafkaError naming the request that was refused:
// the management calls that used to go through another client library included.
func TestRefusalsAreKafkaErrors(t *testing.T) {
	_, c := newTestCluster(t, kfake.SeedTopics(2, "orders"))
	ctx := ctxT(t)

	errs, err := c.CreateTopics(ctx, TopicSpec{Name: "orders", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "create an existing topic", errs["orders"], "CreateTopics", kerr.TopicAlreadyExists)

	_, err = c.DescribeTopicConfigs(ctx, "nope")
	wantRefusal(t, "describe a missing topic's configs", err, "DescribeConfigs", kerr.UnknownTopicOrPartition)

	err = c.AlterTopicConfigs(ctx, "nope", map[string]string{"retention.ms": "60000"}, nil)
	wantRefusal(t, "alter a missing topic's configs", err, "IncrementalAlterConfigs", kerr.UnknownTopicOrPartition)

	gerrs, err := c.DeleteGroups(ctx, "no-such-group")
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "delete a missing group", gerrs["no-such-group"], "DeleteGroups", kerr.GroupIDNotFound)

	_, err = c.FetchMessages(ctx, nil, "orders", 7, 0, 1, 0, 0)
	wantRefusal(t, "fetch a missing partition", err, "Metadata", kerr.UnknownTopicOrPartition)

	derrs, err := c.DeleteTopics(ctx, "nope")
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "delete a missing topic", derrs["nope"], "DeleteTopics", kerr.UnknownTopicOrPartition)
}

// The management calls go through the client's own connections: they are counted per API key, and
// ProduceMessage's producer counts too.
func TestEveryCallIsCounted(t *testing.T) {
	_, c := newTestCluster(t, kfake.SeedTopics(1, "counted"))
	ctx := ctxT(t)
	before := c.Stats()
	if _, err := c.DescribeTopicConfigs(ctx, "counted"); err != nil {
		t.Fatal(err)
	}
	if err := c.AlterTopicConfigs(ctx, "counted", map[string]string{"retention.ms": "60000"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteGroups(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProduceMessage(ctx, "counted", 0, nil, []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	d := c.Stats().Sub(before)
	for _, api := range []string{"DescribeConfigs", "IncrementalAlterConfigs", "FindCoordinator", "DeleteGroups", "Produce"} {
		if d.Requests[api] == 0 {
			t.Errorf("no %s request counted: %v", api, d.Requests)
		}
	}
}

// admin speaks one client stack, franz-go's: kafka-go has its role outside it (the demo traffic).
func TestAdminImportsNoSecondClient(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/segmentio/kafka-go") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
