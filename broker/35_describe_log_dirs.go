package broker

import (
	"sort"
	"syscall"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs: v0-4
//
// Behavior:
// * One entry per log dir with the size of each partition log in it and
//   (v4+) the file system's total and usable bytes. A null topic list
//   describes every partition. Memory-only brokers report one dir named
//   "memory".
// * A dir that has failed (offline after an I/O error) is reported with
//   KAFKA_STORAGE_ERROR and nothing else, as Kafka does.
//
// Version notes:
// * v2: flexible; v3: top-level error code; v4: total/usable bytes.

func init() { regKey(35, 0, 4, handleDescribeLogDirs) }

func handleDescribeLogDirs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	if code := r.authzClusterErr(acl.OpDescribe); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	want := func(string, int32) bool { return true }
	if req.Topics != nil {
		set := map[topicPartition]bool{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				set[topicPartition{t.Topic, p}] = true
			}
		}
		want = func(t string, p int32) bool { return set[topicPartition{t, p}] }
	}
	for _, m := range b.store.mgrs {
		d := kmsg.NewDescribeLogDirsResponseDir()
		d.Dir = m.Dir()
		if m.Offline() != nil {
			d.ErrorCode = kerr.KafkaStorageError.Code
			resp.Dirs = append(resp.Dirs, d)
			continue
		}
		if d.Dir == "" {
			d.Dir = "memory"
		} else {
			// Blocks are counted in fragment size units (f_frsize). Usable is what an
			// unprivileged writer may still use (f_bavail), as Java's getUsableSpace; when
			// statfs fails both stay -1 (unknown), as Kafka answers.
			var st syscall.Statfs_t
			if err := syscall.Statfs(d.Dir, &st); err == nil {
				d.TotalBytes = int64(st.Blocks) * st.Frsize
				d.UsableBytes = int64(st.Bavail) * st.Frsize
			}
		}
		byTopic := map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
		for _, pl := range dataLogs(m) {
			if !want(pl.Topic, pl.Partition) {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition, dp.Size = pl.Partition, pl.Log.Size()
			byTopic[pl.Topic] = append(byTopic[pl.Topic], dp)
		}
		names := make([]string, 0, len(byTopic))
		for t := range byTopic {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			dt := kmsg.NewDescribeLogDirsResponseDirTopic()
			dt.Topic, dt.Partitions = t, byTopic[t]
			d.Topics = append(d.Topics, dt)
		}
		resp.Dirs = append(resp.Dirs, d)
	}
	return resp, nil
}
