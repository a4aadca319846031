package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
)

// A Kafka refusal reads as one sentence naming the operation and the Kafka error by name; the
// client's chain (with the broker's own message) stays in Cause.
func TestKafkaErrorIsASentence(t *testing.T) {
	// What kafka-go and admin.AlterTopicConfigs hand back for the broker's INVALID_CONFIG.
	brokerMsg := `invalid topic config: retention.ms: strconv.ParseInt: parsing "a week": invalid syntax`
	chain := fmt.Errorf("alter configs of %q: %w", "ui.journey", fmt.Errorf("%w: %s", kafka.InvalidConfiguration, brokerMsg))

	cases := []struct {
		name   string
		op     kafkaOp
		target string
		err    error
		status int
		code   string
		msg    string
	}{
		{"invalid config (kafka-go)", opAlterConfigs, "ui.journey", chain, http.StatusBadRequest, "kafka.INVALID_CONFIG",
			"Could not change the configs of topic ui.journey: configuration is invalid (Kafka error INVALID_CONFIG)"},
		{"invalid config (franz-go)", opCreateTopic, "ui.journey", fmt.Errorf("create: %w", kerr.InvalidConfig), http.StatusBadRequest, "kafka.INVALID_CONFIG",
			"Could not create topic ui.journey: configuration is invalid (Kafka error INVALID_CONFIG)"},
		{"exists", opCreateTopic, "orders", kafka.TopicAlreadyExists, http.StatusConflict, "topic_exists",
			"Could not create topic orders: it already exists (Kafka error TOPIC_ALREADY_EXISTS)"},
		{"denied", opDeleteTopic, "orders", kafka.TopicAuthorizationFailed, http.StatusForbidden, "kafka.TOPIC_AUTHORIZATION_FAILED",
			"Could not delete topic orders: the console's Kafka user is not allowed to (Kafka error TOPIC_AUTHORIZATION_FAILED)"},
		{"deletion disabled", opDeleteTopic, "orders", kafka.TopicDeletionDisabled, http.StatusConflict, "kafka.TOPIC_DELETION_DISABLED",
			"Could not delete topic orders: the brokers have delete.topic.enable=false (Kafka error TOPIC_DELETION_DISABLED)"},
		{"timeout", opFetch, "orders", fmt.Errorf("fetch: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "kafka_timeout",
			"Could not read messages from topic orders: the cluster did not answer in time"},
		{"no code", opProduce, "orders", errors.New("dial tcp 127.0.0.1:9092: connect: connection refused"), http.StatusBadGateway, "kafka_error",
			"Could not send a message to topic orders: the cluster could not be reached or failed the request (the console's log has the details)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ue *UserError
			if !errors.As(kafkaError(c.op, c.target, c.err), &ue) {
				t.Fatal("not a UserError")
			}
			if ue.Status != c.status || ue.Code != c.code || ue.Message != c.msg {
				t.Errorf("got %d %s %q\nwant %d %s %q", ue.Status, ue.Code, ue.Message, c.status, c.code, c.msg)
			}
			if ue.Params["op"] != string(c.op) || ue.Params["target"] != c.target {
				t.Errorf("params = %v", ue.Params)
			}
			if !errors.Is(ue, c.err) {
				t.Error("the cause is lost")
			}
			for _, leak := range []string{"strconv", "alter configs of", "[40]"} {
				if strings.Contains(ue.Message, leak) {
					t.Errorf("message carries %q: %s", leak, ue.Message)
				}
			}
		})
	}
}
