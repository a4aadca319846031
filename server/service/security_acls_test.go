package service

import (
	"reflect"
	"testing"

	"github.com/osprey-kafka/osprey/admin"
)

func TestApplyAuthorizerConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []admin.ConfigEntry
		want    AuthorizerSettings
	}{
		{"all reported", []admin.ConfigEntry{{Name: "super.users", Value: "User:admin; User:ops"}, {Name: "allow.everyone.if.no.acl.found", Value: "true"},
			{Name: "authorizer.class.name", Value: "kafka.security.authorizer.AclAuthorizer"}},
			AuthorizerSettings{SuperUsers: []string{"User:admin", "User:ops"}, AllowEveryoneIfNoACL: true, AuthorizerClassName: "kafka.security.authorizer.AclAuthorizer", Missing: []string{}}},
		{"hidden super users", []admin.ConfigEntry{{Name: "super.users", Sensitive: true}, {Name: "allow.everyone.if.no.acl.found", Value: "false"}},
			AuthorizerSettings{SuperUsers: []string{}, SuperUsersHidden: true, Missing: []string{}}},
		{"not reported", []admin.ConfigEntry{{Name: "num.partitions", Value: "3"}},
			AuthorizerSettings{SuperUsers: []string{}, Missing: []string{"super.users", "allow.everyone.if.no.acl.found"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AuthorizerSettings{SuperUsers: []string{}, Missing: []string{}}
			applyAuthorizerConfig(&got, tc.entries)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
