package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
)

// refusal is what admin returns when the broker answers op with Kafka error k.
func refusal(op string, k *kerr.Error) *admin.KafkaError {
	return &admin.KafkaError{Op: op, Code: k.Code}
}

// A Kafka refusal reads as one sentence naming the operation and the Kafka error by name; admin's
// chain (with the broker's own message) stays in Cause.
func TestKafkaErrorIsASentence(t *testing.T) {
	// What admin.AlterTopicConfigs hands back for the broker's INVALID_CONFIG.
	brokerMsg := `invalid topic config: retention.ms: strconv.ParseInt: parsing "a week": invalid syntax`
	chain := fmt.Errorf("alter configs of %q: %w", "ui.journey",
		&admin.KafkaError{Op: "IncrementalAlterConfigs", Code: kerr.InvalidConfig.Code, Message: brokerMsg})

	cases := []struct {
		name   string
		op     kafkaOp
		target string
		err    error
		status int
		code   string
		msg    string
	}{
		{"invalid config", opAlterConfigs, "ui.journey", chain, http.StatusBadRequest, "kafka.INVALID_CONFIG",
			"Could not change the configs of topic ui.journey: configuration is invalid (Kafka error INVALID_CONFIG)"},
		{"invalid config (per topic)", opCreateTopic, "ui.journey", fmt.Errorf("create: %w", refusal("CreateTopics", kerr.InvalidConfig)), http.StatusBadRequest, "kafka.INVALID_CONFIG",
			"Could not create topic ui.journey: configuration is invalid (Kafka error INVALID_CONFIG)"},
		{"exists", opCreateTopic, "orders", refusal("CreateTopics", kerr.TopicAlreadyExists), http.StatusConflict, "topic_exists",
			"Could not create topic orders: it already exists (Kafka error TOPIC_ALREADY_EXISTS)"},
		{"denied", opDeleteTopic, "orders", refusal("DeleteTopics", kerr.TopicAuthorizationFailed), http.StatusForbidden, "kafka.TOPIC_AUTHORIZATION_FAILED",
			"Could not delete topic orders: the console's Kafka user is not allowed to (Kafka error TOPIC_AUTHORIZATION_FAILED)"},
		{"deletion disabled", opDeleteTopic, "orders", refusal("DeleteTopics", kerr.TopicDeletionDisabled), http.StatusConflict, "kafka.TOPIC_DELETION_DISABLED",
			"Could not delete topic orders: the brokers have delete.topic.enable=false (Kafka error TOPIC_DELETION_DISABLED)"},
		{"active group", opDeleteGroup, "billing", refusal("DeleteGroups", kerr.NonEmptyGroup), http.StatusConflict, "group_active",
			"Could not delete group billing: the group still has members; stop its consumers first (Kafka error NON_EMPTY_GROUP)"},
		{"missing group", opDeleteGroup, "billing", refusal("DeleteGroups", kerr.GroupIDNotFound), http.StatusNotFound, "group_not_found",
			"Could not delete group billing: the cluster has no such group (Kafka error GROUP_ID_NOT_FOUND)"},
		{"retriable", opFetch, "orders", fmt.Errorf("fetch: %w", refusal("Metadata", kerr.LeaderNotAvailable)), http.StatusBadGateway, "kafka.LEADER_NOT_AVAILABLE",
			"Could not read messages from topic orders: there is no leader for this topic-partition as we are in the middle of a leadership election (Kafka error LEADER_NOT_AVAILABLE)"},
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

// A reassignment call the cluster refused names Kafka's error; one it could not answer does not.
func TestKafkaFailure(t *testing.T) {
	var ue *UserError
	err := fmt.Errorf("alter partition reassignments: %w", refusal("AlterPartitionReassignments", kerr.NotController))
	if !errors.As(kafkaFailure("starting the reassignment", err), &ue) || ue.Status != http.StatusBadGateway ||
		ue.Code != "kafka.NOT_CONTROLLER" || ue.Params["kafkaError"] != "NOT_CONTROLLER" ||
		ue.Message != "Starting the reassignment failed: this is not the correct controller for this cluster (Kafka error NOT_CONTROLLER)" {
		t.Fatalf("refused: %+v", ue)
	}
	if !errors.As(kafkaFailure("listing ongoing reassignments", errors.New("dial tcp: connection refused")), &ue) ||
		ue.Code != "kafka_error" || strings.Contains(ue.Message, "dial") {
		t.Fatalf("unanswered: %+v", ue)
	}
}
