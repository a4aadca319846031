package metaprops

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// ParseAddScram reads storage format's --add-scram arguments (KIP-900), as
// Kafka's ScramParser does, into the UserScramCredentialRecords the
// bootstrap metadata gets:
//
//	SCRAM-SHA-256=[name=alice,password=alice-secret]
//	SCRAM-SHA-512=[name=alice,iterations=8192,salt="c2FsdA==",saltedpassword="..."]
//
// name is required, and one of password or saltedpassword (which needs salt);
// salt and saltedpassword are base64; a value may be in double quotes;
// iterations defaults to 4096 and must be 4096-16384; without salt a random
// one is drawn. Errors never repeat a password or salted password.
func ParseAddScram(args []string) ([]metadata.Record, error) {
	var out []metadata.Record
	for _, arg := range args {
		r, err := parseScramArg(strings.TrimSpace(arg))
		if err != nil {
			return nil, fmt.Errorf("--add-scram: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseScramArg(arg string) (*metadata.UserScramCredentialRecord, error) {
	mech, conf, ok := strings.Cut(arg, "=")
	if !ok {
		return nil, fmt.Errorf("no equals sign in %s=[...]: want e.g. SCRAM-SHA-256=[name=alice,password=...]", mechOrArg(arg))
	}
	if !sasl.IsScramMechanism(mech) {
		return nil, fmt.Errorf("the mechanism %q is not supported: use SCRAM-SHA-256 or SCRAM-SHA-512", mech)
	}
	if !strings.HasPrefix(conf, "[") || !strings.HasSuffix(conf, "]") {
		return nil, fmt.Errorf("%s: the settings must be in [ ], e.g. %s=[name=alice,password=...]", mech, mech)
	}
	fields := map[string]string{}
	for comp := range strings.SplitSeq(conf[1:len(conf)-1], ",") {
		k, v, ok := strings.Cut(comp, "=")
		if !ok {
			return nil, fmt.Errorf("%s: a setting has no equals sign (settings are key=value, comma-separated)", mech)
		}
		if len(v) >= 2 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) {
			v = v[1 : len(v)-1]
		}
		fields[k] = v
	}
	take := func(k string) (string, bool) { v, ok := fields[k]; delete(fields, k); return v, ok }
	name, ok := take("name")
	if !ok || name == "" {
		return nil, fmt.Errorf("%s: you must supply 'name'", mech)
	}
	var salt []byte
	if s, ok := take("salt"); ok {
		var err error
		if salt, err = base64.StdEncoding.DecodeString(s); err != nil || len(salt) == 0 {
			return nil, fmt.Errorf("%s for %s: the salt %q is not base64", mech, name, s)
		}
	}
	iterations := sasl.MinIterations
	if s, ok := take("iterations"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s for %s: iterations %q is not a number", mech, name, s)
		}
		iterations = n
	}
	if iterations < sasl.MinIterations || iterations > sasl.MaxIterations {
		return nil, fmt.Errorf("%s for %s: iterations must be from %d to %d, got %d", mech, name, sasl.MinIterations, sasl.MaxIterations, iterations)
	}
	password, hasPassword := take("password")
	saltedB64, hasSalted := take("saltedpassword")
	if len(fields) > 0 {
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		return nil, fmt.Errorf("%s for %s: unknown settings: %s", mech, name, strings.Join(keys, ", "))
	}
	var cred sasl.Credential
	var err error
	switch {
	case hasPassword:
		cred, err = sasl.NewCredential(mech, password, salt, iterations)
	case !hasSalted:
		return nil, fmt.Errorf("%s for %s: you must supply one of 'password' or 'saltedpassword'", mech, name)
	case salt == nil:
		return nil, fmt.Errorf("%s for %s: you must supply 'salt' with 'saltedpassword'", mech, name)
	default:
		salted, derr := base64.StdEncoding.DecodeString(saltedB64)
		if derr != nil || len(salted) == 0 {
			return nil, fmt.Errorf("%s for %s: the salted password is not base64", mech, name)
		}
		cred, err = sasl.CredentialFromSaltedPassword(mech, salt, salted, iterations)
	}
	if err != nil {
		return nil, fmt.Errorf("%s for %s: %w", mech, name, err)
	}
	return &metadata.UserScramCredentialRecord{Name: name, Mechanism: sasl.ScramMechanismType(mech), Salt: cred.Salt,
		StoredKey: cred.StoredKey, ServerKey: cred.ServerKey, Iterations: int32(cred.Iterations)}, nil
}

// mechOrArg is the part of a bad argument safe to echo: up to the first '['
// (a password never comes before it).
func mechOrArg(arg string) string {
	if i := strings.IndexByte(arg, '['); i >= 0 {
		return arg[:i]
	}
	if len(arg) > 20 {
		return arg[:20] + "…"
	}
	return arg
}
