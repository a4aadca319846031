package metaprops

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var orderCases = [][]int32{
	{1, 2, 3},
	{1, 2, 4},
	{0, 16, 1},
	{3000, 3001, 3002},
	{5, 100, 7, 2},
	{17, 1, 33, 2, 9},
	{1},
	{65536, 1, 2},
}

// With JDK 19+'s copy capacity (the apache/kafka 4.x images run Java 21):
// three voters land in a 4-bucket table, so 4 (bucket 0) comes before 1
// and 2.
func TestJavaHashMapOrder21(t *testing.T) {
	for _, c := range []struct{ in, want []int32 }{
		{[]int32{3, 1, 2}, []int32{1, 2, 3}},
		{[]int32{1, 2, 4}, []int32{4, 1, 2}},
		{[]int32{3000, 3001, 3002}, []int32{3000, 3001, 3002}},
		{[]int32{1}, []int32{1}},
		{[]int32{1, 2, 5, 6, 7}, []int32{1, 2, 5, 6, 7}}, // 8 buckets
	} {
		if got := javaHashMapOrder(c.in, javaCopyCapacity21); !slices.Equal(got, c.want) {
			t.Errorf("order of %v = %v, want %v", c.in, got, c.want)
		}
	}
}

// javaOrder builds the voter map as DynamicVoters.toVoterSet and
// VoterSet.fromMap do (TreeMap, then HashMap, then the HashMap copy) and
// prints the copy's key order; then InetSocketAddress.getHostString for each
// host argument.
const javaOrder = `import java.net.*;
import java.util.*;
public class Order {
    public static void main(String[] a) throws Exception {
        System.out.println(Runtime.version().feature());
        for (String set : a[0].split(";")) {
            TreeMap<Integer, String> tree = new TreeMap<>();
            for (String id : set.split(",")) tree.put(Integer.parseInt(id), id);
            Map<Integer, String> first = new HashMap<>();
            for (String v : tree.values()) first.put(Integer.parseInt(v), v);
            Map<Integer, String> copy = new HashMap<>(first);
            System.out.println(String.join(",", copy.values()));
        }
        for (int i = 1; i < a.length; i++) {
            System.out.println(new InetSocketAddress(a[i], 9093).getHostString());
        }
    }
}
`

// TestJavaOrderAndHostsMatchJVM runs the voter-set construction on the
// installed JDK, when there is one, and compares it with javaHashMapOrder
// under that JDK's copy rule, and getHostString with javaHostString.
func TestJavaOrderAndHostsMatchJVM(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	src := filepath.Join(t.TempDir(), "Order.java")
	if err := os.WriteFile(src, []byte(javaOrder), 0o644); err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, c := range orderCases {
		var s []string
		for _, id := range c {
			s = append(s, strconv.Itoa(int(id)))
		}
		sets = append(sets, strings.Join(s, ","))
	}
	hosts := []string{"::1", "fe80::1", "2001:db8::a:0:12", "::ffff:10.0.0.1", "127.0.0.1", "localhost", "no-such-host.invalid"}
	raw, err := exec.Command(java, append([]string{src, strings.Join(sets, ";")}, hosts...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, raw)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	feature, _ := strconv.Atoi(lines[0])
	rule := javaCopyCapacity21
	if feature < 19 {
		rule = javaCopyCapacity17
	}
	for i, c := range orderCases {
		var got []string
		for _, id := range javaHashMapOrder(c, rule) {
			got = append(got, strconv.Itoa(int(id)))
		}
		if want := lines[1+i]; strings.Join(got, ",") != want {
			t.Errorf("Java %d orders %v as %s, we as %v", feature, c, want, got)
		}
	}
	for i, h := range hosts {
		if got, want := javaHostString(h), lines[1+len(orderCases)+i]; got != want {
			t.Errorf("getHostString(%q): Java %q, we %q", h, want, got)
		}
	}
}
