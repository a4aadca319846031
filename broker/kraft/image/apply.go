package image

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Apply returns the base image with the delta's records applied. Parts of the
// image the delta did not touch are shared with the base.
func (d *Delta) Apply() Image {
	next := d.base
	if d.metadataVersion != 0 {
		next.metadataVersion = d.metadataVersion
	}
	if d.features != nil {
		f := maps.Clone(d.base.features)
		if f == nil {
			f = map[string]int16{}
		}
		for name, c := range d.features {
			if c.removed {
				delete(f, name)
			} else {
				f[name] = c.level
			}
		}
		next.features = nilIfEmpty(f)
	}
	if d.brokers != nil {
		next.brokers = applyRemovable(d.base.brokers, d.brokers)
	}
	if d.controllers != nil {
		next.controllers = applyRemovable(d.base.controllers, d.controllers)
	}
	if d.topics != nil || d.deletedTopics != nil {
		next.topicsByID, next.topicsByName = d.applyTopics()
	}
	if d.configs != nil {
		next.configs = d.applyConfigs()
	}
	if d.nextProducerID != nil {
		next.nextProducerID = *d.nextProducerID
	}
	if d.scram != nil {
		next.scram = d.applyScram()
	}
	if d.acls != nil {
		next.acls = d.applyACLs()
	}
	if d.quotas != nil {
		next.quotas = d.applyQuotas()
	}
	return next
}

func applyRemovable[V any](base map[int32]*V, changes map[int32]*V) map[int32]*V {
	out := maps.Clone(base)
	if out == nil {
		out = map[int32]*V{}
	}
	for id, v := range changes {
		if v == nil {
			delete(out, id)
		} else {
			out[id] = v
		}
	}
	return nilIfEmpty(out)
}

func (d *Delta) applyTopics() (map[metadata.Uuid]*Topic, map[string]*Topic) {
	byID := maps.Clone(d.base.topicsByID)
	byName := maps.Clone(d.base.topicsByName)
	if byID == nil {
		byID = map[metadata.Uuid]*Topic{}
		byName = map[string]*Topic{}
	}
	for id := range d.deletedTopics {
		t := d.base.topicsByID[id]
		delete(byID, id)
		delete(byName, t.Name)
	}
	for id, td := range d.topics {
		parts := make(map[int32]*Partition, len(td.base)+len(td.parts))
		maps.Copy(parts, td.base)
		maps.Copy(parts, td.parts)
		t := &Topic{Name: td.name, ID: id, partitions: parts}
		byID[id] = t
		byName[td.name] = t
	}
	return nilIfEmpty(byID), nilIfEmpty(byName)
}

func (d *Delta) applyConfigs() map[ConfigResource]map[string]string {
	out := maps.Clone(d.base.configs)
	if out == nil {
		out = map[ConfigResource]map[string]string{}
	}
	for res, changes := range d.configs {
		c := maps.Clone(d.base.configs[res])
		if c == nil {
			c = map[string]string{}
		}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = *v
			}
		}
		if len(c) == 0 {
			delete(out, res)
		} else {
			out[res] = c
		}
	}
	return nilIfEmpty(out)
}

// FromRecords replays records on the empty image, as a node loading a
// snapshot does.
func FromRecords(records []metadata.Record) (Image, error) {
	d := NewDelta(Empty())
	for i, r := range records {
		if err := d.Replay(r); err != nil {
			return Image{}, fmtRecordErr(i, err)
		}
	}
	return d.Apply(), nil
}

func fmtRecordErr(i int, err error) error { return fmt.Errorf("record %d: %w", i, err) }

// Equal reports whether two images hold the same metadata.
func (im Image) Equal(o Image) bool {
	return im.metadataVersion == o.metadataVersion &&
		im.nextProducerID == o.nextProducerID &&
		maps.Equal(im.features, o.features) &&
		maps.EqualFunc(im.brokers, o.brokers, deepEqualPtr[Broker]) &&
		maps.EqualFunc(im.controllers, o.controllers, deepEqualPtr[Controller]) &&
		maps.EqualFunc(im.topicsByID, o.topicsByID, topicsEqual) &&
		maps.EqualFunc(im.topicsByName, o.topicsByName, topicsEqual) &&
		maps.EqualFunc(im.configs, o.configs, func(a, b map[string]string) bool { return maps.Equal(a, b) }) &&
		maps.EqualFunc(im.scram, o.scram, scramEqual) &&
		maps.EqualFunc(im.acls, o.acls, deepEqualPtr[ACL]) &&
		maps.EqualFunc(im.quotas, o.quotas, func(a, b map[string]float64) bool { return maps.Equal(a, b) })
}

func deepEqualPtr[V any](a, b *V) bool { return reflect.DeepEqual(*a, *b) }

func topicsEqual(a, b *Topic) bool {
	return a.Name == b.Name && a.ID == b.ID && maps.EqualFunc(a.partitions, b.partitions, deepEqualPtr[Partition])
}

func nilIfEmpty[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

func sortedByName[V any](m map[string]V, name func(V) string) []V {
	if len(m) == 0 {
		return nil
	}
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b V) int { return cmp.Compare(name(a), name(b)) })
	return out
}
