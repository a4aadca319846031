package broker

import (
	"errors"

	"github.com/osprey-kafka/osprey/broker/storage"
)

// clusterErrCode maps Cluster errors to Kafka error codes and messages.
func clusterErrCode(err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	msg := err.Error()
	switch {
	case errors.Is(err, ErrTopicExists):
		return errTopicExists, &msg
	case errors.Is(err, ErrUnknownTopic):
		return errUnknownTopicOrPart, &msg
	case errors.Is(err, ErrInvalidPartitions):
		return errInvalidPartitions, &msg
	case errors.Is(err, ErrInvalidRF):
		return errInvalidReplication, &msg
	case errors.Is(err, ErrInvalidTopic):
		return errInvalidTopic, &msg
	case errors.Is(err, ErrInvalidConfig), errors.Is(err, storage.ErrInvalidConfig):
		return errInvalidConfig, &msg
	default:
		return errUnknown, &msg
	}
}
