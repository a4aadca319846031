package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
)

// kafkaOp names an operation the console asks a cluster to do. The name travels to the web as the
// "op" parameter of a kafka.* error, which translates it; kafkaOpText is its English phrase.
type kafkaOp string

const (
	opCreateTopic     kafkaOp = "create_topic"
	opDeleteTopic     kafkaOp = "delete_topic"
	opAlterConfigs    kafkaOp = "alter_configs"
	opAddPartitions   kafkaOp = "add_partitions"
	opDescribeConfigs kafkaOp = "describe_configs"
	opReadMetadata    kafkaOp = "read_metadata"
	opCommitOffsets   kafkaOp = "commit_offsets"
	opDeleteGroup     kafkaOp = "delete_group"
	opFetch           kafkaOp = "fetch"
	opProduce         kafkaOp = "produce"
	// opDescribeProducers and opAbortTransaction: the Producers view and the Transactions page's abort.
	opDescribeProducers kafkaOp = "describe_producers"
	opAbortTransaction  kafkaOp = "abort_transaction"
	// opAlterShareOffsets and opDeleteShareOffsets: a share group's offset reset and deletion.
	opAlterShareOffsets  kafkaOp = "alter_share_offsets"
	opDeleteShareOffsets kafkaOp = "delete_share_offsets"
)

// kafkaOpText completes "Could not …" with the operation's target.
var kafkaOpText = map[kafkaOp]string{
	opCreateTopic:        "create topic %s",
	opDeleteTopic:        "delete topic %s",
	opAlterConfigs:       "change the configs of topic %s",
	opAddPartitions:      "add partitions to topic %s",
	opDescribeConfigs:    "read the configs of topic %s",
	opReadMetadata:       "read the metadata of %s",
	opCommitOffsets:      "commit offsets for group %s",
	opDeleteGroup:        "delete group %s",
	opFetch:              "read messages from topic %s",
	opProduce:            "send a message to topic %s",
	opDescribeProducers:  "read the producers of topic %s",
	opAbortTransaction:   "abort the open transaction on %s",
	opAlterShareOffsets:  "reset the start offsets of share group %s",
	opDeleteShareOffsets: "delete the offsets of share group %s",
}

// kafkaKind is kerr's value for the Kafka error code the cluster answered with (admin's KafkaError in
// err's chain), so that the answers below name Kafka's errors; nil when the call failed otherwise.
func kafkaKind(err error) *kerr.Error {
	if ae, ok := errors.AsType[*admin.KafkaError](err); ok {
		return kerr.TypedErrorForCode(ae.Code)
	}
	return nil
}

// kafkaError turns a failed Kafka call into the error the API returns: a sentence naming the
// operation and Kafka's error by its protocol name, code "kafka.<NAME>" (or one of the console's own
// codes where one already says it: topic_exists, topic_not_found, group_active, group_not_found).
// admin's error chain, with the broker's own message, stays in Cause for the log.
func kafkaError(op kafkaOp, target string, err error) error {
	did := "Could not " + fmt.Sprintf(kafkaOpText[op], target)
	ue := &UserError{Cause: err}
	ue.with("op", string(op), "target", target)
	ke := kafkaKind(err)
	if ke == nil {
		if errors.Is(err, context.DeadlineExceeded) {
			ue.Status, ue.Code = http.StatusGatewayTimeout, "kafka_timeout"
			ue.Message = did + ": the cluster did not answer in time"
			return ue
		}
		ue.Status, ue.Code = http.StatusBadGateway, "kafka_error"
		ue.Message = did + ": the cluster could not be reached or failed the request (the console's log has the details)"
		return ue
	}
	ue.with("kafkaError", ke.Message)
	ue.Message = fmt.Sprintf("%s: %s (Kafka error %s)", did, sentence(ke.Description), ke.Message)
	ue.Status, ue.Code = http.StatusBadGateway, "kafka."+ke.Message
	switch ke {
	case kerr.TopicAlreadyExists:
		ue.Status, ue.Code = http.StatusConflict, "topic_exists"
		ue.Message = fmt.Sprintf("%s: it already exists (Kafka error %s)", did, ke.Message)
	case kerr.UnknownTopicOrPartition:
		ue.Status, ue.Code = http.StatusNotFound, "topic_not_found"
		ue.Message = fmt.Sprintf("%s: the cluster has no such topic or partition (Kafka error %s)", did, ke.Message)
	case kerr.NonEmptyGroup:
		ue.Status, ue.Code = http.StatusConflict, "group_active"
		ue.Message = fmt.Sprintf("%s: the group still has members; stop its consumers first (Kafka error %s)", did, ke.Message)
	case kerr.GroupIDNotFound:
		ue.Status, ue.Code = http.StatusNotFound, "group_not_found"
		ue.Message = fmt.Sprintf("%s: the cluster has no such group (Kafka error %s)", did, ke.Message)
	case kerr.TopicDeletionDisabled:
		ue.Status = http.StatusConflict
		ue.Message = fmt.Sprintf("%s: the brokers have delete.topic.enable=false (Kafka error %s)", did, ke.Message)
	case kerr.InvalidTopicException, kerr.InvalidPartitions, kerr.InvalidReplicationFactor, kerr.InvalidReplicaAssignment,
		kerr.InvalidConfig, kerr.InvalidRequest, kerr.PolicyViolation:
		ue.Status = http.StatusBadRequest
	case kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed:
		ue.Status = http.StatusForbidden
		ue.Message = fmt.Sprintf("%s: the console's Kafka user is not allowed to (Kafka error %s)", did, ke.Message)
	case kerr.RequestTimedOut:
		ue.Status = http.StatusGatewayTimeout
	}
	return ue
}

// sentence turns a kerr description ("Configuration is invalid.") into a clause that reads after a
// colon ("configuration is invalid"); a leading acronym keeps its case.
func sentence(desc string) string {
	desc = strings.TrimSuffix(strings.TrimSpace(desc), ".")
	r, n := utf8.DecodeRuneInString(desc)
	if n == 0 {
		return desc
	}
	if next, _ := utf8.DecodeRuneInString(desc[n:]); unicode.IsUpper(next) {
		return desc
	}
	return string(unicode.ToLower(r)) + desc[n:]
}

// kafkaFailure reports a reassignment call the cluster refused or could not answer: the caller cannot
// fix it, but the Kafka error's name helps them; the chain stays in Cause for the log.
func kafkaFailure(what string, err error) error {
	what = strings.ToUpper(what[:1]) + what[1:]
	ue := &UserError{Status: http.StatusBadGateway, Code: "kafka_error", Cause: err,
		Message: what + " failed: the cluster could not be reached or failed the request (the console's log has the details)"}
	if ke := kafkaKind(err); ke != nil {
		ue.Code = "kafka." + ke.Message
		ue.Message = fmt.Sprintf("%s failed: %s (Kafka error %s)", what, sentence(ke.Description), ke.Message)
		ue.with("kafkaError", ke.Message)
	}
	return ue
}
