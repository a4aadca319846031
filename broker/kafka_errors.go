package broker

import "github.com/twmb/franz-go/pkg/kerr"

// Kafka error codes the handlers answer with, taken from franz-go's kerr by
// name so that no protocol number is written by hand. They are variables
// (kerr's errors are pointers), read-only by convention.
var (
	errUnknown                      = kerr.UnknownServerError.Code
	errOffsetOutOfRange             = kerr.OffsetOutOfRange.Code
	errCorruptMessage               = kerr.CorruptMessage.Code
	errUnknownTopicOrPart           = kerr.UnknownTopicOrPartition.Code
	errLeaderNotAvailable           = kerr.LeaderNotAvailable.Code
	errNotLeader                    = kerr.NotLeaderForPartition.Code
	errRequestTimedOut              = kerr.RequestTimedOut.Code
	errMessageTooLarge              = kerr.MessageTooLarge.Code
	errStaleControllerEpoch         = kerr.StaleControllerEpoch.Code
	errCoordinatorLoading           = kerr.CoordinatorLoadInProgress.Code
	errCoordinatorNotAvail          = kerr.CoordinatorNotAvailable.Code
	errNotCoordinator               = kerr.NotCoordinator.Code
	errInvalidTopic                 = kerr.InvalidTopicException.Code
	errNotEnoughReplicas            = kerr.NotEnoughReplicas.Code
	errInvalidRequiredAcks          = kerr.InvalidRequiredAcks.Code
	errIllegalGeneration            = kerr.IllegalGeneration.Code
	errInconsistentProtocol         = kerr.InconsistentGroupProtocol.Code
	errInvalidGroupID               = kerr.InvalidGroupID.Code
	errUnknownMemberID              = kerr.UnknownMemberID.Code
	errInvalidSessionTimeout        = kerr.InvalidSessionTimeout.Code
	errRebalanceInProgress          = kerr.RebalanceInProgress.Code
	errUnsupportedVersion           = kerr.UnsupportedVersion.Code
	errTopicExists                  = kerr.TopicAlreadyExists.Code
	errInvalidPartitions            = kerr.InvalidPartitions.Code
	errInvalidReplication           = kerr.InvalidReplicationFactor.Code
	errInvalidReplicaAssignment     = kerr.InvalidReplicaAssignment.Code
	errInvalidConfig                = kerr.InvalidConfig.Code
	errNotController                = kerr.NotController.Code
	errInvalidRequest               = kerr.InvalidRequest.Code
	errOutOfOrderSeq                = kerr.OutOfOrderSequenceNumber.Code
	errInvalidProducerEpoch         = kerr.InvalidProducerEpoch.Code
	errInvalidRecord                = kerr.InvalidRecord.Code
	errProducerFenced               = kerr.ProducerFenced.Code
	errConcurrentTxns               = kerr.ConcurrentTransactions.Code
	errTxnCoordinatorFenced         = kerr.TransactionCoordinatorFenced.Code
	errInvalidProducerIDMapping     = kerr.InvalidProducerIDMapping.Code
	errUnstableOffsetCommit         = kerr.UnstableOffsetCommit.Code
	errOperationNotAttempted        = kerr.OperationNotAttempted.Code
	errTransactionalIDNotFound      = kerr.TransactionalIDNotFound.Code
	errInvalidRegularExpression     = kerr.InvalidRegularExpression.Code
	errGroupNotEmpty                = kerr.NonEmptyGroup.Code
	errGroupIDNotFound              = kerr.GroupIDNotFound.Code
	errFetchSessionIDNotFound       = kerr.FetchSessionIDNotFound.Code
	errTopicDeletionDisabled        = kerr.TopicDeletionDisabled.Code
	errFencedLeaderEpoch            = kerr.FencedLeaderEpoch.Code
	errUnknownLeaderEpoch           = kerr.UnknownLeaderEpoch.Code
	errStaleBrokerEpoch             = kerr.StaleBrokerEpoch.Code
	errMemberIDRequired             = kerr.MemberIDRequired.Code
	errPreferredLeaderNotAvailable  = kerr.PreferredLeaderNotAvailable.Code
	errEligibleLeadersNotAvailable  = kerr.EligibleLeadersNotAvailable.Code
	errElectionNotNeeded            = kerr.ElectionNotNeeded.Code
	errNoReassignmentInProgress     = kerr.NoReassignmentInProgress.Code
	errGroupSubscribedToTopic       = kerr.GroupSubscribedToTopic.Code
	errUnknownTopicID               = kerr.UnknownTopicID.Code
	errNotEnoughReplicasAfterAppend = kerr.NotEnoughReplicasAfterAppend.Code
	errUnsupportedEndpointType      = kerr.UnsupportedEndpointType.Code
)
