package image

import "slices"

// TopicChanges names the topics a delta touched, for a broker that keeps a
// per-topic view: changed lists every topic that exists after the delta and
// was created, had a partition changed or had its configuration changed in
// it; deleted lists every topic of the base (for a snapshot delta: of the
// image it replaces) that is gone. A topic removed and created again under
// the same name is in both. Both lists are sorted by name.
func (d *Delta) TopicChanges() (changed, deleted []string) {
	if d.prev != nil {
		// A snapshot replaces everything: every topic it holds may differ.
		next := d.Apply()
		for _, t := range next.topicsByName {
			changed = append(changed, t.Name)
		}
		for id, t := range d.prev.topicsByID {
			if _, ok := next.topicsByID[id]; !ok {
				deleted = append(deleted, t.Name)
			}
		}
		slices.Sort(changed)
		slices.Sort(deleted)
		return changed, deleted
	}
	seen := map[string]bool{}
	for _, td := range d.topics {
		seen[td.name] = true
	}
	for res := range d.configs {
		if res.Type != ResourceTopic || seen[res.Name] {
			continue
		}
		if _, ok := d.topicIDByName(res.Name); ok {
			seen[res.Name] = true
		}
	}
	for name := range seen {
		changed = append(changed, name)
	}
	for id := range d.deletedTopics {
		deleted = append(deleted, d.base.topicsByID[id].Name)
	}
	slices.Sort(changed)
	slices.Sort(deleted)
	return changed, deleted
}
