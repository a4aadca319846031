package broker

import (
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs v4 answers the file system's total and usable bytes of a log dir (KIP-827), as
// statfs sees the directory; a memory-only broker has no file system and answers -1 for both, as
// Kafka does when it cannot tell.
func TestDescribeLogDirsTotalAndUsableBytes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts []testBrokerOpt
		file bool
	}{
		{"file", []testBrokerOpt{withDir(dir)}, true},
		{"memory", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBroker(t, tc.opts...)
			c := dialRaw(t, b.Addr())
			req := kmsg.NewPtrDescribeLogDirsRequest()
			req.Version = 4
			resp := c.roundTrip(req, 1).(*kmsg.DescribeLogDirsResponse)
			if len(resp.Dirs) != 1 {
				t.Fatalf("dirs = %+v, want one", resp.Dirs)
			}
			d := resp.Dirs[0]
			if !tc.file {
				if d.Dir != "memory" || d.TotalBytes != -1 || d.UsableBytes != -1 {
					t.Fatalf("memory dir = %s total %d usable %d, want memory -1 -1", d.Dir, d.TotalBytes, d.UsableBytes)
				}
				return
			}
			var st syscall.Statfs_t
			if err := syscall.Statfs(dir, &st); err != nil {
				t.Fatal(err)
			}
			if want := int64(st.Blocks) * st.Frsize; d.Dir != dir || d.TotalBytes != want {
				t.Fatalf("dir %s total %d, want %s total %d", d.Dir, d.TotalBytes, dir, want)
			}
			if d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
				t.Fatalf("usable %d of total %d", d.UsableBytes, d.TotalBytes)
			}
		})
	}
}
