package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestInsertChunks(t *testing.T) {
	cases := []struct {
		n, largest int
		want       []int
	}{
		{0, 64, nil},
		{1, 64, []int{1}},
		{64, 64, []int{64}},
		{200, 64, []int{64, 64, 64, 8}},
		{5000, 1024, []int{1024, 1024, 1024, 1024, 512, 256, 128, 8}},
		{1023, 1024, []int{512, 256, 128, 64, 32, 16, 8, 4, 2, 1}},
	}
	for _, c := range cases {
		got := insertChunks(c.n, c.largest)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("insertChunks(%d, %d) = %v, want %v", c.n, c.largest, got, c.want)
		}
	}
	// SQLite statements stay within 512 parameters; MySQL ones carry 1,024 rows.
	lite, my := &Store{dialect: "sqlite"}, &Store{dialect: "mysql"}
	for cols := 1; cols <= 13; cols++ {
		if r := lite.statementRows(cols); r*cols > 512 || 2*r*cols <= 512 {
			t.Errorf("SQLite, %d columns: %d rows per statement", cols, r)
		}
		if r := my.statementRows(cols); r != 1024 {
			t.Errorf("MySQL, %d columns: %d rows per statement", cols, r)
		}
	}
}

// oldSchemaRows are points written into the version 2 tables, keyed by their names.
var oldSchemaRows = []string{
	"INSERT INTO topic_metrics (cluster, topic, step, ts, start_offset, end_offset, size_bytes, msgs_per_sec, bytes_per_sec) VALUES " +
		"('c', 'orders', 0, 1000, 1, 10, 100, 1.5, 150), ('c', 'orders', 0, 1015, 1, 20, 200, 2.5, 250), " +
		"('c', 'Orders', 0, 1000, 7, 70, 700, 7.5, 750), ('c', 'orders', 60, 960, 1, 20, 200, 2, 200)",
	"INSERT INTO group_metrics (cluster, group_name, topic, step, ts, committed, lag, lag_max, lag_seconds) VALUES " +
		"('c', 'billing', 'orders', 0, 1000, 9, 1, 1, 0.5), ('c', 'billing', 'payments', 0, 1000, 3, 30, 40, 4.5), " +
		"('c', 'billing', 'orders', 0, 1015, 19, 1, 2, 0.25)",
	"INSERT INTO broker_metrics (cluster, broker_id, step, ts, up, leaders, replicas, log_dir_bytes, msgs_in_per_sec, bytes_in_per_sec) VALUES " +
		"('c', 1, 0, 1000, 1, 3, 9, 4096, 2, 200), ('c', 2, 0, 1000, 0, 0, 0, 0, 0, 0)",
	"INSERT INTO cluster_metrics (cluster, step, ts, brokers, brokers_up, topics, partitions, under_replicated, offline, under_min_isr, total_lag, msgs_per_sec, bytes_per_sec) VALUES " +
		"('c', 0, 1000, 2, 1, 2, 6, 1, 0, 1, 31, 2, 200), ('d', 0, 1000, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)",
}

// checkOldRows reads back, through the current schema, the points oldSchemaRows wrote.
func checkOldRows(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	// Up to 1020: the upgrade test adds points at 1030 later.
	r := SeriesRange{From: time.Unix(0, 0), To: time.Unix(1020, 0)}
	topics, err := s.TopicSeries(ctx, "c", "orders", r)
	want := []TopicPoint{
		{Cluster: "c", Topic: "orders", Ts: 1000, StartOffset: 1, EndOffset: 10, SizeBytes: 100, MsgsPerSec: 1.5, BytesPerSec: 150},
		{Cluster: "c", Topic: "orders", Ts: 1015, StartOffset: 1, EndOffset: 20, SizeBytes: 200, MsgsPerSec: 2.5, BytesPerSec: 250},
	}
	if err != nil || !reflect.DeepEqual(topics, want) {
		t.Fatalf("topic orders = %+v, %v; want %+v", topics, err, want)
	}
	if upper, _ := s.TopicSeries(ctx, "c", "Orders", r); len(upper) != 1 || upper[0].EndOffset != 70 {
		t.Fatalf("topic Orders (case differs) = %+v", upper)
	}
	r60 := r
	r60.Step = 60
	if m, _ := s.TopicSeries(ctx, "c", "orders", r60); len(m) != 1 || m[0].Ts != 960 || m[0].Step != 60 {
		t.Fatalf("topic orders at 60 s = %+v", m)
	}
	groups, err := s.GroupSeries(ctx, "c", "billing", "", r)
	wantG := []GroupPoint{
		{Cluster: "c", GroupName: "billing", Topic: "orders", Ts: 1000, Committed: 9, Lag: 1, LagMax: 1, LagSeconds: 0.5},
		{Cluster: "c", GroupName: "billing", Topic: "orders", Ts: 1015, Committed: 19, Lag: 1, LagMax: 2, LagSeconds: 0.25},
		{Cluster: "c", GroupName: "billing", Topic: "payments", Ts: 1000, Committed: 3, Lag: 30, LagMax: 40, LagSeconds: 4.5},
	}
	if err != nil || !reflect.DeepEqual(groups, wantG) {
		t.Fatalf("group billing = %+v, %v; want %+v", groups, err, wantG)
	}
	if one, _ := s.GroupSeries(ctx, "c", "billing", "payments", r); len(one) != 1 || one[0].Lag != 30 {
		t.Fatalf("group billing on payments = %+v", one)
	}
	br, err := s.BrokerSeries(ctx, "c", 1, r)
	wantB := []BrokerPoint{{Cluster: "c", BrokerID: 1, Ts: 1000, Up: 1, Leaders: 3, Replicas: 9, LogDirBytes: 4096, MsgsInPerSec: 2, BytesInPerSec: 200}}
	if err != nil || !reflect.DeepEqual(br, wantB) {
		t.Fatalf("broker 1 = %+v, %v", br, err)
	}
	if b2, _ := s.BrokerSeries(ctx, "c", 2, r); len(b2) != 1 || b2[0].Up != 0 {
		t.Fatalf("broker 2 = %+v", b2)
	}
	cl, err := s.ClusterSeries(ctx, "c", r)
	wantC := []ClusterPoint{{Cluster: "c", Ts: 1000, Brokers: 2, BrokersUp: 1, Topics: 2, Partitions: 6, UnderReplicated: 1, UnderMinISR: 1, TotalLag: 31, MsgsPerSec: 2, BytesPerSec: 200}}
	if err != nil || !reflect.DeepEqual(cl, wantC) {
		t.Fatalf("cluster c = %+v, %v", cl, err)
	}
	if d, _ := s.ClusterSeries(ctx, "d", r); len(d) != 1 || d[0].Brokers != 1 {
		t.Fatalf("cluster d = %+v", d)
	}
}

// TestMigrateSeriesIDsUpgrade: a database at version 2 with points keeps them through migration 3, takes
// new points after it, and gives every point back in the old tables when migrated down again.
func TestMigrateSeriesIDsUpgrade(t *testing.T) {
	for _, dialect := range []string{"sqlite", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			opts := openOpts(t, dialect)
			s, err := Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			p, err := s.provider()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			for _, q := range oldSchemaRows {
				if err := s.db.Exec(q).Error; err != nil {
					t.Fatalf("writing version 2 rows: %v", err)
				}
			}
			applied, err := s.Migrate(ctx)
			// 3 and 4 rewrite the series tables; later versions add tables of their own.
			if err != nil || len(applied) < 2 || !reflect.DeepEqual(applied[:2], []int64{3, 4}) {
				t.Fatalf("migrate from 2: applied %v, err %v", applied, err)
			}
			checkOldRows(t, s)
			if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
				t.Fatalf("second migrate: applied %v, err %v", again, err)
			}
			checkOldRows(t, s)

			// New points for a migrated series and a new one.
			b := Batch{Topics: []TopicPoint{
				{Cluster: "c", Topic: "orders", Ts: 1030, EndOffset: 30},
				{Cluster: "c", Topic: "fresh", Ts: 1030, EndOffset: 5},
			}}
			if err := s.WriteBatch(ctx, &b); err != nil {
				t.Fatal(err)
			}
			r := SeriesRange{From: time.Unix(0, 0), To: time.Unix(2000, 0)}
			if got, _ := s.TopicSeries(ctx, "c", "orders", r); len(got) != 3 || got[2].EndOffset != 30 {
				t.Fatalf("orders after a new point = %+v", got)
			}

			// Down to 2: the old tables hold every point again, under their names.
			if _, err := p.DownTo(ctx, 2); err != nil {
				t.Fatalf("migrating down to 2: %v", err)
			}
			var old []struct {
				Cluster, Topic string
				Ts, EndOffset  int64
			}
			if err := s.db.Raw("SELECT cluster, topic, ts, end_offset FROM topic_metrics WHERE step = 0 ORDER BY topic, ts").Scan(&old).Error; err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint([]any{"c Orders 1000 70", "c fresh 1030 5", "c orders 1000 10", "c orders 1015 20", "c orders 1030 30"})
			var got []any
			for _, o := range old {
				got = append(got, fmt.Sprintf("%s %s %d %d", o.Cluster, o.Topic, o.Ts, o.EndOffset))
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("version 2 topic rows after down = %v, want %v", got, want)
			}
			var n int64
			if err := s.db.Raw("SELECT COUNT(*) FROM group_metrics").Scan(&n).Error; err != nil || n != 3 {
				t.Fatalf("version 2 group rows after down = %d, err %v", n, err)
			}
			if s.db.Migrator().HasTable("metric_series") {
				t.Fatal("metric_series kept after migrating down")
			}

			// Up again, with a fresh store: the ids were renumbered, so no process may keep old ones.
			s2, err := Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if _, err := s2.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			checkOldRows(t, s2)
		})
	}
}

// TestSeriesIDsSharedByStores: two consoles writing the same new series into one database at once
// agree on the ids, and each reads the other's points.
func TestSeriesIDsSharedByStores(t *testing.T) {
	for _, dialect := range []string{"sqlite", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			opts := openOpts(t, dialect)
			var stores []*Store
			for i := 0; i < 2; i++ {
				s, err := Open(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				if _, err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				stores = append(stores, s)
			}
			const series, cycles = 300, 5
			var wg sync.WaitGroup
			errs := make([]error, len(stores))
			for w, s := range stores {
				wg.Go(func() {
					for c := 0; c < cycles; c++ {
						var b Batch
						for i := 0; i < series; i++ {
							b.Groups = append(b.Groups, GroupPoint{Cluster: "c", GroupName: fmt.Sprintf("g%d", i%7), Topic: fmt.Sprintf("t%d", i),
								Ts: int64(1000 + 2*c + w), Lag: int64(w)})
						}
						if err := s.WriteBatch(ctx, &b); err != nil {
							errs[w] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for w, err := range errs {
				if err != nil {
					t.Fatalf("writer %d: %v", w, err)
				}
			}
			var n int64
			if err := stores[0].db.Raw("SELECT COUNT(*) FROM metric_series").Scan(&n).Error; err != nil || n != series {
				t.Fatalf("metric_series rows = %d (err %v), want %d", n, err, series)
			}
			r := SeriesRange{From: time.Unix(0, 0), To: time.Unix(2000, 0)}
			for _, s := range stores {
				pts, err := s.GroupSeries(ctx, "c", "g3", "t10", r)
				if err != nil || len(pts) != 2*cycles {
					t.Fatalf("g3/t10 = %d points (err %v), want %d", len(pts), err, 2*cycles)
				}
				for i, p := range pts {
					if p.Ts != int64(1000+i) || p.Lag != int64(i%2) {
						t.Fatalf("point %d = %+v", i, p)
					}
				}
			}
		})
	}
}

// TestSeriesIDsOrderChanges: a cycle whose series come in another order than the last one (a topic
// added in front, two swapped) still files every point under its own series.
func TestSeriesIDsOrderChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		cycles := [][]string{{"a", "b", "c"}, {"new", "a", "c", "b"}, {"new", "a", "c", "b"}, {"b"}}
		for c, names := range cycles {
			var b Batch
			for _, n := range names {
				// EndOffset encodes the topic and the cycle, so a point filed under another series shows.
				b.Topics = append(b.Topics, TopicPoint{Cluster: "c", Topic: n, Ts: int64(1000 + c), EndOffset: int64(len(n)*1000 + int(n[0])*10 + c)})
				b.Groups = append(b.Groups, GroupPoint{Cluster: "c", GroupName: "g", Topic: n, Ts: int64(1000 + c), Lag: int64(int(n[0])*10 + c)})
			}
			if err := s.WriteBatch(ctx, &b); err != nil {
				t.Fatal(err)
			}
		}
		r := SeriesRange{From: time.Unix(0, 0), To: time.Unix(2000, 0)}
		for _, n := range []string{"a", "b", "c", "new"} {
			pts, err := s.TopicSeries(ctx, "c", n, r)
			if err != nil {
				t.Fatal(err)
			}
			var want int
			for c, names := range cycles {
				for _, m := range names {
					if m == n {
						want++
						if !containsTopicPoint(pts, int64(1000+c), int64(len(n)*1000+int(n[0])*10+c)) {
							t.Fatalf("topic %s: no point for cycle %d in %+v", n, c, pts)
						}
					}
				}
			}
			if len(pts) != want {
				t.Fatalf("topic %s: %d points, want %d: %+v", n, len(pts), want, pts)
			}
			gp, err := s.GroupSeries(ctx, "c", "g", n, r)
			if err != nil || len(gp) != want {
				t.Fatalf("group g on %s: %d points (err %v), want %d", n, len(gp), err, want)
			}
			for _, p := range gp {
				if p.Lag != int64(int(n[0])*10)+p.Ts-1000 {
					t.Fatalf("group g on %s: point %+v belongs to another series", n, p)
				}
			}
		}
	})
}

func containsTopicPoint(pts []TopicPoint, ts, end int64) bool {
	for _, p := range pts {
		if p.Ts == ts && p.EndOffset == end {
			return true
		}
	}
	return false
}

// TestSeriesIDsTrailingSpace: names that differ only by trailing spaces (equal under MariaDB's
// utf8mb4_bin, different in SQLite) still write; each name reads back a point with its value.
func TestSeriesIDsTrailingSpace(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		b := Batch{Groups: []GroupPoint{
			{Cluster: "c", GroupName: "g", Topic: "t", Ts: 1000, Lag: 1},
			{Cluster: "c", GroupName: "g ", Topic: "t", Ts: 1015, Lag: 2},
		}}
		for i := 0; i < 2; i++ {
			if err := s.WriteBatch(ctx, &b); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		r := SeriesRange{From: time.Unix(0, 0), To: time.Unix(2000, 0)}
		for _, want := range b.Groups {
			pts, err := s.GroupSeries(ctx, "c", want.GroupName, "t", r)
			if err != nil || !containsGroupPoint(pts, want.Ts, want.Lag) {
				t.Fatalf("group %q = %+v (err %v), want a point at %d with lag %d", want.GroupName, pts, err, want.Ts, want.Lag)
			}
		}
	})
}

func containsGroupPoint(pts []GroupPoint, ts, lag int64) bool {
	for _, p := range pts {
		if p.Ts == ts && p.Lag == lag {
			return true
		}
	}
	return false
}
