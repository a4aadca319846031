package sasl

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ScramMechanismType is the mechanism's number in DescribeUserScramCredentials,
// AlterUserScramCredentials and UserScramCredentialRecord (Kafka's
// ScramMechanism.type): 1 SCRAM-SHA-256, 2 SCRAM-SHA-512; 0 for any other name.
func ScramMechanismType(name string) int8 {
	switch name {
	case ScramSHA256:
		return 1
	case ScramSHA512:
		return 2
	}
	return 0
}

// ScramMechanismName is the inverse of ScramMechanismType; "" for an unknown number.
func ScramMechanismName(t int8) string {
	switch t {
	case 1:
		return ScramSHA256
	case 2:
		return ScramSHA512
	}
	return ""
}

// ScramChange is one accepted alteration of a user's credential for one
// mechanism: a deletion, or an upsertion with the credential derived from
// the salted password the client sent.
type ScramChange struct {
	User       string
	Mechanism  string
	Delete     bool
	Credential Credential // upsertions only
}

// PlanScramAlterations checks an AlterUserScramCredentials request with
// Kafka's rules and returns the changes to make, grouped by user in request
// order, and a result for every user refused:
//   - an empty user name is UNACCEPTABLE_CREDENTIAL;
//   - an unknown mechanism is UNSUPPORTED_SASL_MECHANISM;
//   - iterations outside 4096–16384, or an empty salt or salted password, is
//     UNACCEPTABLE_CREDENTIAL;
//   - a user and mechanism named twice is DUPLICATE_RESOURCE for the user;
//   - deleting a credential that does not exist is RESOURCE_NOT_FOUND.
//
// Any refusal leaves all of that user's alterations undone. exists answers
// from the current credentials. Messages never carry a secret.
func PlanScramAlterations(req *kmsg.AlterUserSCRAMCredentialsRequest, exists func(user, mechanism string) bool) (map[string][]ScramChange, []string, []kmsg.AlterUserSCRAMCredentialsResponseResult) {
	refused := map[string]*kmsg.AlterUserSCRAMCredentialsResponseResult{}
	var refusedOrder []string
	refuse := func(user string, err *kerr.Error, msg string) {
		if _, ok := refused[user]; ok {
			return
		}
		r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		r.User, r.ErrorCode, r.ErrorMessage = user, err.Code, kmsg.StringPtr(msg)
		refused[user] = &r
		refusedOrder = append(refusedOrder, user)
	}
	type pair struct{ user, mech string }
	seen := map[pair]int{}
	var changes []ScramChange
	for _, d := range req.Deletions {
		mech := ScramMechanismName(d.Mechanism)
		switch {
		case d.Name == "":
			refuse(d.Name, kerr.UnacceptableCredential, "Username must not be empty")
		case mech == "":
			refuse(d.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
		default:
			seen[pair{d.Name, mech}]++
			changes = append(changes, ScramChange{User: d.Name, Mechanism: mech, Delete: true})
		}
	}
	for _, u := range req.Upsertions {
		mech := ScramMechanismName(u.Mechanism)
		switch {
		case u.Name == "":
			refuse(u.Name, kerr.UnacceptableCredential, "Username must not be empty")
		case mech == "":
			refuse(u.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
		case u.Iterations < MinIterations:
			refuse(u.Name, kerr.UnacceptableCredential, "Too few iterations")
		case u.Iterations > MaxIterations:
			refuse(u.Name, kerr.UnacceptableCredential, "Too many iterations")
		case len(u.Salt) == 0 || len(u.SaltedPassword) == 0:
			refuse(u.Name, kerr.UnacceptableCredential, "Salt and salted password must not be empty")
		default:
			cred, err := CredentialFromSaltedPassword(mech, u.Salt, u.SaltedPassword, int(u.Iterations))
			if err != nil {
				refuse(u.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
				continue
			}
			seen[pair{u.Name, mech}]++
			changes = append(changes, ScramChange{User: u.Name, Mechanism: mech, Credential: cred})
		}
	}
	for _, c := range changes {
		if _, bad := refused[c.User]; bad {
			continue
		}
		if seen[pair{c.User, c.Mechanism}] > 1 {
			refuse(c.User, kerr.DuplicateResource, "A user credential cannot be altered twice in the same request")
		}
	}
	for _, c := range changes {
		if _, bad := refused[c.User]; !bad && c.Delete && !exists(c.User, c.Mechanism) {
			refuse(c.User, kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist")
		}
	}
	byUser := map[string][]ScramChange{}
	var order []string
	for _, c := range changes {
		if _, bad := refused[c.User]; bad {
			continue
		}
		if _, ok := byUser[c.User]; !ok {
			order = append(order, c.User)
		}
		byUser[c.User] = append(byUser[c.User], c)
	}
	results := make([]kmsg.AlterUserSCRAMCredentialsResponseResult, 0, len(refusedOrder))
	for _, u := range refusedOrder {
		results = append(results, *refused[u])
	}
	return byUser, order, results
}

// ScramInfo is what DescribeUserScramCredentials tells about one credential:
// never the salt or keys.
type ScramInfo struct {
	Mechanism  string
	Iterations int
}

// DescribeScram answers DescribeUserScramCredentials from users (each user's
// credentials, as the broker holds them) with Kafka's rules: no names lists
// every user with a credential, sorted; a named user without one is
// RESOURCE_NOT_FOUND, an empty name too, a name given twice
// DUPLICATE_RESOURCE (answered once).
func DescribeScram(req *kmsg.DescribeUserSCRAMCredentialsRequest, resp *kmsg.DescribeUserSCRAMCredentialsResponse, users func(names []string) map[string][]ScramInfo) {
	result := func(user string, infos []ScramInfo) kmsg.DescribeUserSCRAMCredentialsResponseResult {
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = user
		for _, in := range infos {
			ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			ci.Mechanism, ci.Iterations = ScramMechanismType(in.Mechanism), int32(in.Iterations)
			r.CredentialInfos = append(r.CredentialInfos, ci)
		}
		return r
	}
	if len(req.Users) == 0 {
		all := users(nil)
		for _, u := range slices.Sorted(maps.Keys(all)) {
			resp.Results = append(resp.Results, result(u, all[u]))
		}
		return
	}
	count := map[string]int{}
	var names []string
	for _, u := range req.Users {
		if count[u.Name]++; count[u.Name] == 1 && u.Name != "" {
			names = append(names, u.Name)
		}
	}
	found := users(names)
	done := map[string]bool{}
	for _, u := range req.Users {
		if done[u.Name] {
			continue
		}
		done[u.Name] = true
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = u.Name
		switch infos, ok := found[u.Name]; {
		case u.Name == "":
			r.ErrorCode, r.ErrorMessage = kerr.ResourceNotFound.Code, kmsg.StringPtr("Username must not be empty")
		case count[u.Name] > 1:
			r.ErrorCode = kerr.DuplicateResource.Code
			r.ErrorMessage = kmsg.StringPtr("Cannot describe SCRAM credentials for the same user twice in a single request: " + u.Name)
		case !ok || len(infos) == 0:
			r.ErrorCode = kerr.ResourceNotFound.Code
			r.ErrorMessage = kmsg.StringPtr("Attempt to describe a user credential that does not exist: " + u.Name)
		default:
			r = result(u.Name, infos)
		}
		resp.Results = append(resp.Results, r)
	}
}
