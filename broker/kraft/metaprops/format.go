package metaprops

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Voter is one entry of --initial-controllers (KIP-853):
// id@host:port:directory-id.
type Voter struct {
	ID          int32
	Host        string
	Port        int
	DirectoryID metadata.Uuid
}

// ParseVoters parses --initial-controllers as Kafka's DynamicVoters.parse
// does: comma-separated id@host:port:directory-id entries, an IPv6 host in
// brackets, each node id once.
func ParseVoters(s string) ([]Voter, error) {
	var out []Voter
	for _, e := range strings.Split(strings.TrimSpace(s), ",") {
		if e == "" {
			continue
		}
		v, err := parseVoter(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("--initial-controllers entry %q: %w; each entry is id@host:port:directory-id "+
				"(a directory id from `osprey storage random-uuid`)", e, err)
		}
		if slices.ContainsFunc(out, func(o Voter) bool { return o.ID == v.ID }) {
			return nil, fmt.Errorf("--initial-controllers: node id %d was specified more than once", v.ID)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("--initial-controllers: no voters given")
	}
	return out, nil
}

func parseVoter(s string) (Voter, error) {
	idStr, rest, ok := strings.Cut(s, "@")
	if !ok {
		return Voter{}, errors.New("no @ found")
	}
	id, err := strconv.ParseInt(idStr, 10, 32)
	if err != nil || id < 0 {
		return Voter{}, fmt.Errorf("node id %q is not a non-negative integer", idStr)
	}
	var host string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return Voter{}, errors.New("host begins with [ but has no ]")
		}
		host, rest = rest[1:end], rest[end+1:]
	} else {
		end := strings.Index(rest, ":")
		if end < 0 {
			return Voter{}, errors.New("no colon after the host")
		}
		host, rest = rest[:end], rest[end:]
	}
	if host == "" {
		return Voter{}, errors.New("no host after the node id")
	}
	portStr, dirStr, ok := strings.Cut(strings.TrimPrefix(rest, ":"), ":")
	if !strings.HasPrefix(rest, ":") || !ok {
		return Voter{}, errors.New("want :port:directory-id after the host")
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return Voter{}, fmt.Errorf("port %q is not 0-65535", portStr)
	}
	dir, err := metadata.ParseUuid(dirStr)
	if err != nil {
		return Voter{}, fmt.Errorf("directory id: %w", err)
	}
	return Voter{ID: int32(id), Host: host, Port: port, DirectoryID: dir}, nil
}

// FormatOptions is one `storage format` run.
type FormatOptions struct {
	ClusterID       string   // -t: a Kafka Uuid (osprey storage random-uuid)
	NodeID          int32    // node.id
	Directories     []string // log.dirs and metadata.log.dir
	MetadataLogDir  string   // metadata.log.dir (or the first of log.dirs)
	IgnoreFormatted bool     // --ignore-formatted
	// InitialControllers is the dynamic voter set (--initial-controllers, or
	// this node alone for --standalone); nil for a static quorum
	// (controller.quorum.voters).
	InitialControllers []Voter
	// ControllerListenerName is the first of controller.listener.names: the
	// name of the voters' endpoint in a dynamic quorum's voter set.
	ControllerListenerName string
	// ReleaseVersion (--release-version) and Features (--feature
	// name=level) choose the bootstrap metadata's feature levels; by
	// default Kafka 4.0's (bootstrap.Resolve).
	ReleaseVersion string
	Features       map[string]int16
	// Scram are the --add-scram credentials (ParseAddScram): written to
	// the bootstrap metadata after the features, so the cluster starts with
	// these users. They need metadata.version 3.5-IV2 or later.
	Scram []metadata.Record

	Out  io.Writer        // progress lines, as kafka-storage.sh prints them
	Rand io.Reader        // for directory ids; nil = crypto/rand
	Now  func() time.Time // the file's date line; nil = time.Now
}

// Format formats every directory that has no meta.properties, as Kafka's
// Formatter does: it writes bootstrap.checkpoint (the bootstrap metadata),
// for the metadata directory of a dynamic quorum the voter-set snapshot
// __cluster_metadata-0/00000000000000000000-0000000000.checkpoint, and then
// meta.properties (version 1, cluster.id, node.id, a new directory.id, or the
// voter's own for a voter's metadata directory). Every existing
// meta.properties must already name the same cluster and node; an already
// formatted directory is an error unless IgnoreFormatted is set, and then it
// is left as it is.
func Format(o FormatOptions) error {
	dirs, err := o.directories()
	if err != nil {
		return err
	}
	out, now := o.Out, o.Now
	if out == nil {
		out = io.Discard
	}
	if now == nil {
		now = time.Now
	}
	// The bootstrap metadata is settled before any directory is looked at,
	// so a bad --release-version or --feature changes nothing on disk.
	mv, levels, err := bootstrap.Resolve(bootstrap.Settings{
		ReleaseVersion: o.ReleaseVersion,
		Features:       o.Features,
		DynamicQuorum:  o.InitialControllers != nil,
	})
	if err != nil {
		return err
	}
	boot := bootstrap.FromVersions(mv, levels, "format command")
	if len(o.Scram) > 0 {
		if mv.Level < image.MetadataVersion35IV2 {
			return fmt.Errorf("--add-scram: SCRAM is only supported in metadata.version 3.5-IV2 or later (this is %s)", mv)
		}
		boot.Records = append(boot.Records, o.Scram...)
	}

	existing, empty, seen, err := o.readExisting(dirs)
	if err != nil {
		return err
	}
	if len(existing) > 0 && !o.IgnoreFormatted {
		first := ""
		for _, d := range dirs {
			if _, ok := existing[d]; ok {
				first = d
				break
			}
		}
		return fmt.Errorf("log directory %s is already formatted; use --ignore-formatted to ignore this directory and format the others", first)
	}
	if len(empty) == 0 {
		fmt.Fprintln(out, "All of the log directories are already formatted.")
		return nil
	}

	var voterDir *metadata.Uuid
	for _, v := range o.InitialControllers {
		if v.ID == o.NodeID {
			voterDir = &v.DirectoryID
		}
	}
	for _, d := range empty {
		kind := "data directory"
		var id metadata.Uuid
		switch {
		case d == o.MetadataLogDir && voterDir != nil:
			kind, id = "dynamic metadata voter directory", *voterDir
		default:
			if d == o.MetadataLogDir {
				kind = "metadata directory"
				if o.InitialControllers != nil {
					kind = "dynamic metadata directory"
				}
			}
			if id, err = newDirectoryID(o.Rand, seen); err != nil {
				return err
			}
		}
		seen[id] = d
		fmt.Fprintf(out, "Formatting %s %s with %s %s.\n", kind, d, bootstrap.MetadataVersionFeature, mv)
		if err := o.formatDir(d, id, boot, levels, now()); err != nil {
			return err
		}
	}
	return nil
}

// directories checks the options that do not depend on the disk and returns
// the directories to format, sorted and without duplicates.
func (o *FormatOptions) directories() ([]string, error) {
	if o.NodeID < 0 {
		return nil, errors.New("node.id: you must specify a valid non-negative node id")
	}
	if _, err := metadata.ParseUuid(o.ClusterID); err != nil {
		return nil, fmt.Errorf("cluster id %q is not a Kafka Uuid (%v): make one with `osprey storage random-uuid`", o.ClusterID, err)
	}
	dirs := slices.Clone(o.Directories)
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	if len(dirs) == 0 {
		return nil, errors.New("log.dirs: no directories to format; set log.dirs (and metadata.log.dir if the metadata log lives apart)")
	}
	if o.MetadataLogDir == "" || !slices.Contains(dirs, o.MetadataLogDir) {
		return nil, fmt.Errorf("metadata.log.dir %q is not one of the directories to format %v", o.MetadataLogDir, dirs)
	}
	if o.ControllerListenerName == "" {
		return nil, errors.New("controller.listener.names: you must specify the name of the initial controller listener " +
			"(e.g. controller.listener.names=CONTROLLER)")
	}
	return dirs, nil
}

// readExisting loads the meta.properties of each directory and verifies
// them as MetaPropertiesEnsemble.verify does: the same cluster and node
// everywhere, no reserved or duplicate directory ids. It returns the
// formatted directories, the empty ones (in dirs' order), and the directory
// ids already taken.
func (o *FormatOptions) readExisting(dirs []string) (existing map[string]MetaProperties, empty []string, seen map[metadata.Uuid]string, err error) {
	existing = map[string]MetaProperties{}
	seen = map[metadata.Uuid]string{}
	for _, d := range dirs {
		m, err := Read(d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			empty = append(empty, d)
			continue
		case err != nil:
			return nil, nil, nil, fmt.Errorf("log directory %s: %w; fix or remove its %s, or take the directory out of log.dirs", d, err, FileName)
		}
		path := d + string(os.PathSeparator) + FileName
		if m.ClusterID != "" && m.ClusterID != o.ClusterID {
			return nil, nil, nil, fmt.Errorf("invalid cluster.id in %s: expected %s, but read %s; this directory belongs to another cluster: "+
				"format with -t %s, or empty the directory if its data is to be discarded", path, o.ClusterID, m.ClusterID, m.ClusterID)
		}
		if m.NodeID >= 0 && m.NodeID != o.NodeID {
			return nil, nil, nil, fmt.Errorf("stored node id %d in %s does not match node.id=%d; if you moved your data, make sure the configured "+
				"node.id matches; to create a new node, empty the directory", m.NodeID, path, o.NodeID)
		}
		if m.DirectoryID != nil {
			if metadata.IsReservedDirectoryID(*m.DirectoryID) {
				return nil, nil, nil, fmt.Errorf("invalid reserved directory id %s found in %s", m.DirectoryID, d)
			}
			if prev, dup := seen[*m.DirectoryID]; dup {
				return nil, nil, nil, fmt.Errorf("duplicate directory id %s: it is the id of %s and also of %s", m.DirectoryID, prev, d)
			}
			seen[*m.DirectoryID] = d
		}
		existing[d] = m
	}
	return existing, empty, seen, nil
}

// newDirectoryID draws random directory ids until one is not in seen.
func newDirectoryID(rand io.Reader, seen map[metadata.Uuid]string) (metadata.Uuid, error) {
	for {
		id, err := metadata.RandomDirectoryID(rand)
		if err != nil {
			return metadata.Uuid{}, err
		}
		if _, dup := seen[id]; !dup {
			return id, nil
		}
	}
}

// formatDir writes one empty directory's files in Kafka's order:
// bootstrap.checkpoint, the voter-set snapshot for the metadata directory
// of a dynamic quorum, and last meta.properties, whose presence marks the
// directory formatted.
func (o *FormatOptions) formatDir(d string, id metadata.Uuid, boot bootstrap.Metadata, levels map[string]int16, t time.Time) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("creating log directory %s: %w", d, err)
	}
	if err := bootstrap.WriteFile(d, boot, t.UnixMilli()); err != nil {
		return fmt.Errorf("writing %s in %s: %w", bootstrap.FileName, d, err)
	}
	if d == o.MetadataLogDir && o.InitialControllers != nil {
		err := WriteVoterSnapshot(d, o.InitialControllers, levels[bootstrap.KRaftVersionFeature], o.ControllerListenerName, t.UnixMilli())
		if err != nil {
			return fmt.Errorf("writing the voter-set snapshot in %s: %w", d, err)
		}
	}
	m := MetaProperties{Version: 1, ClusterID: o.ClusterID, NodeID: o.NodeID, DirectoryID: &id}
	if err := Write(d, m, t); err != nil {
		return fmt.Errorf("error while writing meta.properties file %s: %w", d, err)
	}
	return nil
}
