package node

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// notControllerResponse answers req with NOT_CONTROLLER, as a Kafka controller that is not
// active answers.
func notControllerResponse(req kmsg.Request) kmsg.Response {
	return errorResponse(req, kerr.NotController.Code)
}

// errorResponse answers req with code in its error fields: the top-level error code where the
// response has one, else each item's (topic, resource).
func errorResponse(req kmsg.Request, code int16) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	switch r := resp.(type) {
	case *kmsg.BrokerRegistrationResponse:
		r.ErrorCode = code
	case *kmsg.BrokerHeartbeatResponse:
		r.ErrorCode = code
	case *kmsg.UnregisterBrokerResponse:
		r.ErrorCode = code
	case *kmsg.ControllerRegistrationResponse:
		r.ErrorCode = code
	case *kmsg.AlterPartitionResponse:
		r.ErrorCode = code
	case *kmsg.AlterPartitionAssignmentsResponse:
		r.ErrorCode = code
	case *kmsg.ListPartitionReassignmentsResponse:
		r.ErrorCode = code
	case *kmsg.AllocateProducerIDsResponse:
		r.ErrorCode = code
	case *kmsg.DescribeClusterResponse:
		r.ErrorCode = code
	case *kmsg.AlterUserSCRAMCredentialsResponse:
		errorScram(req.(*kmsg.AlterUserSCRAMCredentialsRequest), r, code)
	case *kmsg.CreateACLsResponse:
		for range req.(*kmsg.CreateACLsRequest).Creations {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode = code
			r.Results = append(r.Results, res)
		}
	case *kmsg.DeleteACLsResponse:
		for range req.(*kmsg.DeleteACLsRequest).Filters {
			res := kmsg.NewDeleteACLsResponseResult()
			res.ErrorCode = code
			r.Results = append(r.Results, res)
		}
	case *kmsg.AlterClientQuotasResponse:
		for _, e := range req.(*kmsg.AlterClientQuotasRequest).Entries {
			res := kmsg.NewAlterClientQuotasResponseEntry()
			for _, d := range e.Entity {
				rd := kmsg.NewAlterClientQuotasResponseEntryEntity()
				rd.Type, rd.Name = d.Type, d.Name
				res.Entity = append(res.Entity, rd)
			}
			res.ErrorCode = code
			r.Entries = append(r.Entries, res)
		}
	case *kmsg.ElectLeadersResponse:
		r.ErrorCode = code
		errorElect(req.(*kmsg.ElectLeadersRequest), r, code)
	case *kmsg.CreateTopicsResponse:
		for _, t := range req.(*kmsg.CreateTopicsRequest).Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, code
			r.Topics = append(r.Topics, rt)
		}
	case *kmsg.DeleteTopicsResponse:
		errorDelete(req.(*kmsg.DeleteTopicsRequest), r, code)
	case *kmsg.CreatePartitionsResponse:
		for _, t := range req.(*kmsg.CreatePartitionsRequest).Topics {
			rt := kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, code
			r.Topics = append(r.Topics, rt)
		}
	case *kmsg.IncrementalAlterConfigsResponse:
		for _, res := range req.(*kmsg.IncrementalAlterConfigsRequest).Resources {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
			r.Resources = append(r.Resources, rr)
		}
	case *kmsg.AlterConfigsResponse:
		for _, res := range req.(*kmsg.AlterConfigsRequest).Resources {
			rr := kmsg.NewAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, code
			r.Resources = append(r.Resources, rr)
		}
	}
	return resp
}

func errorElect(req *kmsg.ElectLeadersRequest, r *kmsg.ElectLeadersResponse, code int16) {
	for _, t := range req.Topics {
		rt := kmsg.NewElectLeadersResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		r.Topics = append(r.Topics, rt)
	}
}

func errorDelete(req *kmsg.DeleteTopicsRequest, r *kmsg.DeleteTopicsResponse, code int16) {
	for _, name := range req.TopicNames {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.ErrorCode = kmsg.StringPtr(name), code
		r.Topics = append(r.Topics, rt)
	}
	for _, t := range req.Topics {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, code
		r.Topics = append(r.Topics, rt)
	}
}

// isNotController reports whether resp is a NOT_CONTROLLER answer: its top-level error code, or
// any item's, is NOT_CONTROLLER.
func isNotController(resp kmsg.Response) bool {
	nc := kerr.NotController.Code
	switch r := resp.(type) {
	case *kmsg.BrokerRegistrationResponse:
		return r.ErrorCode == nc
	case *kmsg.BrokerHeartbeatResponse:
		return r.ErrorCode == nc
	case *kmsg.UnregisterBrokerResponse:
		return r.ErrorCode == nc
	case *kmsg.ControllerRegistrationResponse:
		return r.ErrorCode == nc
	case *kmsg.AlterPartitionResponse:
		return r.ErrorCode == nc
	case *kmsg.AlterPartitionAssignmentsResponse:
		return r.ErrorCode == nc
	case *kmsg.ListPartitionReassignmentsResponse:
		return r.ErrorCode == nc
	case *kmsg.AllocateProducerIDsResponse:
		return r.ErrorCode == nc
	case *kmsg.DescribeClusterResponse:
		return r.ErrorCode == nc
	case *kmsg.AlterUserSCRAMCredentialsResponse:
		return slices.ContainsFunc(r.Results, func(u kmsg.AlterUserSCRAMCredentialsResponseResult) bool { return u.ErrorCode == nc })
	case *kmsg.CreateACLsResponse:
		return slices.ContainsFunc(r.Results, func(u kmsg.CreateACLsResponseResult) bool { return u.ErrorCode == nc })
	case *kmsg.DeleteACLsResponse:
		return slices.ContainsFunc(r.Results, func(u kmsg.DeleteACLsResponseResult) bool { return u.ErrorCode == nc })
	case *kmsg.AlterClientQuotasResponse:
		return slices.ContainsFunc(r.Entries, func(u kmsg.AlterClientQuotasResponseEntry) bool { return u.ErrorCode == nc })
	case *kmsg.ElectLeadersResponse:
		return r.ErrorCode == nc || slices.ContainsFunc(r.Topics, func(t kmsg.ElectLeadersResponseTopic) bool {
			return slices.ContainsFunc(t.Partitions, func(p kmsg.ElectLeadersResponseTopicPartition) bool { return p.ErrorCode == nc })
		})
	case *kmsg.CreateTopicsResponse:
		return slices.ContainsFunc(r.Topics, func(t kmsg.CreateTopicsResponseTopic) bool { return t.ErrorCode == nc })
	case *kmsg.DeleteTopicsResponse:
		return slices.ContainsFunc(r.Topics, func(t kmsg.DeleteTopicsResponseTopic) bool { return t.ErrorCode == nc })
	case *kmsg.CreatePartitionsResponse:
		return slices.ContainsFunc(r.Topics, func(t kmsg.CreatePartitionsResponseTopic) bool { return t.ErrorCode == nc })
	case *kmsg.IncrementalAlterConfigsResponse:
		return slices.ContainsFunc(r.Resources, func(t kmsg.IncrementalAlterConfigsResponseResource) bool { return t.ErrorCode == nc })
	case *kmsg.AlterConfigsResponse:
		return slices.ContainsFunc(r.Resources, func(t kmsg.AlterConfigsResponseResource) bool { return t.ErrorCode == nc })
	}
	return false
}

// errorScram gives every user an AlterUserScramCredentials request names
// the code, once each.
func errorScram(req *kmsg.AlterUserSCRAMCredentialsRequest, r *kmsg.AlterUserSCRAMCredentialsResponse, code int16) {
	seen := map[string]bool{}
	add := func(user string) {
		if !seen[user] {
			seen[user] = true
			u := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			u.User, u.ErrorCode = user, code
			r.Results = append(r.Results, u)
		}
	}
	for _, d := range req.Deletions {
		add(d.Name)
	}
	for _, u := range req.Upsertions {
		add(u.Name)
	}
}
