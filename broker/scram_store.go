package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/sasl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// SCRAM credentials live where the metadata mode keeps them, as in Kafka:
// /config/users/<user> in ZooKeeper mode, user SCRAM credential records in
// the KRaft image, and <log dir>/osprey-scram.json for a single broker
// without either. Each Cluster answers lookups from memory (a cache the
// ZooKeeper watches refresh, or the image), so authenticating never waits on
// the metadata store.

// scramStore is a Cluster that keeps SCRAM credentials.
type scramStore interface {
	sasl.CredentialLookup
	// scramUsers reports the named users' credentials (nil: every user
	// with one) without their secrets. It may read the metadata store.
	scramUsers(ctx context.Context, names []string) (map[string][]sasl.ScramInfo, error)
	// alterScram carries out an AlterUserScramCredentials request and
	// returns a result per user. A returned error fails every user.
	alterScram(ctx context.Context, req *kmsg.AlterUserSCRAMCredentialsRequest) ([]kmsg.AlterUserSCRAMCredentialsResponseResult, error)
}

// scramTable is an in-memory table of credentials by user and mechanism.
// mu guards creds; the maps are replaced, never changed in place, so a
// lookup's result stays valid.
type scramTable struct {
	mu    sync.RWMutex
	creds map[string]map[string]sasl.Credential
}

func (t *scramTable) lookup(user, mechanism string) (sasl.Credential, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.creds[user][mechanism]
	return c, ok
}

func (t *scramTable) replace(creds map[string]map[string]sasl.Credential) {
	t.mu.Lock()
	t.creds = creds
	t.mu.Unlock()
}

func (t *scramTable) snapshot() map[string]map[string]sasl.Credential {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.creds
}

// infosOf lists the mechanisms and iterations of creds, by mechanism name.
func infosOf(creds map[string]sasl.Credential) []sasl.ScramInfo {
	var out []sasl.ScramInfo
	for _, m := range slices.Sorted(maps.Keys(creds)) {
		out = append(out, sasl.ScramInfo{Mechanism: m, Iterations: creds[m].Iterations})
	}
	return out
}

// selectUsers picks the named users (nil: all) from a table.
func selectUsers(all map[string]map[string]sasl.Credential, names []string) map[string][]sasl.ScramInfo {
	out := map[string][]sasl.ScramInfo{}
	if names == nil {
		for u, c := range all {
			if len(c) > 0 {
				out[u] = infosOf(c)
			}
		}
		return out
	}
	for _, u := range names {
		if c := all[u]; len(c) > 0 {
			out[u] = infosOf(c)
		}
	}
	return out
}

// applyChanges returns creds with the planned changes of one user made.
func applyChanges(creds map[string]sasl.Credential, changes []sasl.ScramChange) map[string]sasl.Credential {
	next := maps.Clone(creds)
	if next == nil {
		next = map[string]sasl.Credential{}
	}
	for _, ch := range changes {
		if ch.Delete {
			delete(next, ch.Mechanism)
		} else {
			next[ch.Mechanism] = ch.Credential
		}
	}
	return next
}

func okResult(user string) kmsg.AlterUserSCRAMCredentialsResponseResult {
	r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
	r.User = user
	return r
}

func failResult(user string, err *kerr.Error, msg string) kmsg.AlterUserSCRAMCredentialsResponseResult {
	r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
	r.User, r.ErrorCode, r.ErrorMessage = user, err.Code, kmsg.StringPtr(msg)
	return r
}

// ---- KRaft: the image, changes through the controller ----

// ScramCredential implements sasl.CredentialLookup from this broker's image.
func (kc *kraftCluster) ScramCredential(user, mechanism string) (sasl.Credential, bool) {
	im, _ := kc.image()
	c, ok := im.ScramCredential(user, sasl.ScramMechanismType(mechanism))
	if !ok {
		return sasl.Credential{}, false
	}
	return sasl.Credential{Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: int(c.Iterations)}, true
}

// scramUsers answers from this broker's image, as a Kafka KRaft broker does.
func (kc *kraftCluster) scramUsers(_ context.Context, names []string) (map[string][]sasl.ScramInfo, error) {
	im, _ := kc.image()
	all := map[string]map[string]sasl.Credential{}
	for _, c := range im.ScramCredentials() {
		if all[c.User] == nil {
			all[c.User] = map[string]sasl.Credential{}
		}
		all[c.User][sasl.ScramMechanismName(c.Mechanism)] = sasl.Credential{Iterations: int(c.Iterations)}
	}
	return selectUsers(all, names), nil
}

// alterScram forwards the request to the active controller, which decides
// and writes the records, and then waits until this broker's image shows
// the accepted changes, so a describe here right after sees them.
func (kc *kraftCluster) alterScram(ctx context.Context, req *kmsg.AlterUserSCRAMCredentialsRequest) ([]kmsg.AlterUserSCRAMCredentialsResponseResult, error) {
	fwd := *req
	fwd.Version = 0
	raw, err := kc.controllerRequest(ctx, &fwd)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.AlterUserSCRAMCredentialsResponse)
	accepted := map[string]bool{}
	for _, r := range resp.Results {
		if r.ErrorCode == 0 {
			accepted[r.User] = true
		}
	}
	seen := func(im image.Image) bool {
		for _, d := range req.Deletions {
			if _, ok := im.ScramCredential(d.Name, d.Mechanism); accepted[d.Name] && ok {
				return false
			}
		}
		for _, u := range req.Upsertions {
			c, ok := im.ScramCredential(u.Name, u.Mechanism)
			if accepted[u.Name] && (!ok || !bytes.Equal(c.Salt, u.Salt) || c.Iterations != u.Iterations) {
				return false
			}
		}
		return true
	}
	if err := kc.waitImage(ctx, seen); err != nil {
		kc.log.Warn("SCRAM change committed but not yet in this broker's image", "err", err)
	}
	return resp.Results, nil
}

// ---- ZooKeeper: /config/users/<user>, a cache refreshed on config changes ----

// zkScram is a zkCluster's credential cache and the notifications it was
// last loaded at. Only the session goroutine (reload) writes it.
type zkScram struct {
	table   scramTable
	changes []string // /config/changes children at the last load; nil: never loaded
}

// ScramCredential implements sasl.CredentialLookup from the cache.
func (zc *zkCluster) ScramCredential(user, mechanism string) (sasl.Credential, bool) {
	return zc.scram.table.lookup(user, mechanism)
}

// reloadScram re-reads every user's credentials when /config/changes has a
// notification it has not seen (or on the first load): the list is watched
// by reload, so a new notification brings the reload here.
func (zc *zkCluster) reloadScram(ctx context.Context, s metastore.Session, first bool) error {
	changes, _, err := s.Children(ctx, zkdata.ConfigChangesPath)
	if err != nil && !errors.Is(err, metastore.ErrNoNode) {
		return err
	}
	slices.Sort(changes)
	if !first && zc.scram.changes != nil && slices.Equal(changes, zc.scram.changes) {
		return nil
	}
	creds, err := readZKScram(ctx, s, zc.log.Warn)
	if err != nil {
		return err
	}
	zc.scram.table.replace(creds)
	zc.scram.changes = append([]string{}, changes...)
	return nil
}

// readZKScram reads the SCRAM credentials of every /config/users/<user>.
// A credential that does not decode is skipped with a warning that names
// the user and mechanism only.
func readZKScram(ctx context.Context, s metastore.Session, warn func(string, ...any)) (map[string]map[string]sasl.Credential, error) {
	cfgs, err := readEntityConfigs(ctx, s, zkdata.ConfigTypeUser, "")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]sasl.Credential{}
	for name, cfg := range cfgs {
		user, err := zkdata.DesanitizeEntityName(name)
		if err != nil {
			warn("bad user entity name under /config/users", "entity", name)
			continue
		}
		for _, mech := range sasl.ScramMechanisms() {
			v, ok := cfg[mech]
			if !ok {
				continue
			}
			c, err := zkdata.DecodeScramCredential(v)
			if err != nil {
				warn("bad SCRAM credential in ZooKeeper", "user", user, "mechanism", mech, "err", err)
				continue
			}
			if out[user] == nil {
				out[user] = map[string]sasl.Credential{}
			}
			out[user][mech] = sasl.Credential{Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations}
		}
	}
	return out, nil
}

// scramUsers reads ZooKeeper, as Kafka's ZkAdminManager does, so a describe
// sees a change made through any broker at once.
func (zc *zkCluster) scramUsers(ctx context.Context, names []string) (map[string][]sasl.ScramInfo, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	all, err := readZKScram(ctx, s, zc.log.Warn)
	if err != nil {
		return nil, err
	}
	return selectUsers(all, names), nil
}

// errScramGone is a deletion whose credential went away between the check
// and the write.
var errScramGone = errors.New("credential does not exist")

// alterScram writes each accepted user's node (read-modify-write, so quota
// keys in the same node stay) and a change notification, as Kafka's
// AdminZkClient.changeConfigs does.
func (zc *zkCluster) alterScram(ctx context.Context, req *kmsg.AlterUserSCRAMCredentialsRequest) ([]kmsg.AlterUserSCRAMCredentialsResponseResult, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	current, err := readZKScram(ctx, s, zc.log.Warn)
	if err != nil {
		return nil, err
	}
	exists := func(user, mech string) bool { _, ok := current[user][mech]; return ok }
	byUser, order, results := sasl.PlanScramAlterations(req, exists)
	for _, user := range order {
		changes := byUser[user]
		err := zc.updateEntityConfig(ctx, zkdata.ConfigTypeUser, zkdata.SanitizeEntityName(user), func(cfg map[string]string) error {
			for _, ch := range changes {
				if ch.Delete {
					if _, ok := cfg[ch.Mechanism]; !ok {
						return errScramGone
					}
					delete(cfg, ch.Mechanism)
					continue
				}
				c := ch.Credential
				cfg[ch.Mechanism] = zkdata.EncodeScramCredential(zkdata.ScramCredential{Salt: c.Salt,
					StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations})
			}
			return nil
		})
		switch {
		case errors.Is(err, errScramGone):
			results = append(results, failResult(user, kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist"))
		case err != nil:
			zc.log.Warn("writing SCRAM credentials", "user", user, "err", err)
			results = append(results, failResult(user, kerr.UnknownServerError, "writing the credential to ZooKeeper failed"))
		default:
			results = append(results, okResult(user))
		}
	}
	if len(order) > 0 {
		zc.log.Info("SCRAM credentials altered", "users", len(order))
	}
	return results, nil
}

// ---- a single broker: <first log dir>/osprey-scram.json ----

// localScram is the single-broker store. mu serializes changes (and the
// file); lookups read the table.
type localScram struct {
	mu    sync.Mutex
	path  string // "" = not persisted
	table scramTable
}

// persistedScram is one credential in osprey-scram.json (keys base64 by
// encoding/json; no password is ever written).
type persistedScram struct {
	User       string `json:"user"`
	Mechanism  string `json:"mechanism"`
	Salt       []byte `json:"salt"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
	Iterations int    `json:"iterations"`
}

// scramFileName is the single broker's credential file, next to its topic file.
const scramFileName = "osprey-scram.json"

// load reads the file, if any.
func (ls *localScram) load() error {
	if ls.path == "" {
		return nil
	}
	data, err := os.ReadFile(ls.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading SCRAM credentials: %w", err)
	}
	var ps []persistedScram
	if err := json.Unmarshal(data, &ps); err != nil {
		return fmt.Errorf("decoding %s: %w", ls.path, err)
	}
	creds := map[string]map[string]sasl.Credential{}
	for _, p := range ps {
		if creds[p.User] == nil {
			creds[p.User] = map[string]sasl.Credential{}
		}
		creds[p.User][p.Mechanism] = sasl.Credential{Salt: p.Salt, StoredKey: p.StoredKey, ServerKey: p.ServerKey, Iterations: p.Iterations}
	}
	ls.table.replace(creds)
	return nil
}

func (ls *localScram) save(creds map[string]map[string]sasl.Credential) error {
	if ls.path == "" {
		return nil
	}
	var ps []persistedScram
	for _, u := range slices.Sorted(maps.Keys(creds)) {
		for _, m := range slices.Sorted(maps.Keys(creds[u])) {
			c := creds[u][m]
			ps = append(ps, persistedScram{User: u, Mechanism: m, Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations})
		}
	}
	data, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(ls.path, data, 0o600)
}

func (ls *localScram) alter(req *kmsg.AlterUserSCRAMCredentialsRequest) ([]kmsg.AlterUserSCRAMCredentialsResponseResult, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	cur := ls.table.snapshot()
	exists := func(user, mech string) bool { _, ok := cur[user][mech]; return ok }
	byUser, order, results := sasl.PlanScramAlterations(req, exists)
	if len(order) == 0 {
		return results, nil
	}
	next := maps.Clone(cur)
	if next == nil {
		next = map[string]map[string]sasl.Credential{}
	}
	for _, user := range order {
		next[user] = applyChanges(next[user], byUser[user])
		if len(next[user]) == 0 {
			delete(next, user)
		}
	}
	if err := ls.save(next); err != nil {
		return nil, fmt.Errorf("saving SCRAM credentials: %w", err)
	}
	ls.table.replace(next)
	for _, user := range order {
		results = append(results, okResult(user))
	}
	return results, nil
}

// scramPathFor is the credential file next to a single broker's topic file.
func scramPathFor(topicsPath string) string {
	if topicsPath == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(topicsPath), scramFileName)
}

// ScramCredential implements sasl.CredentialLookup.
func (lc *localCluster) ScramCredential(user, mechanism string) (sasl.Credential, bool) {
	return lc.scram.table.lookup(user, mechanism)
}

func (lc *localCluster) scramUsers(_ context.Context, names []string) (map[string][]sasl.ScramInfo, error) {
	return selectUsers(lc.scram.table.snapshot(), names), nil
}

func (lc *localCluster) alterScram(_ context.Context, req *kmsg.AlterUserSCRAMCredentialsRequest) ([]kmsg.AlterUserSCRAMCredentialsResponseResult, error) {
	return lc.scram.alter(req)
}
