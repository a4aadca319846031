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

// javaProps stores the properties as Kafka's MetaProperties.toProperties and
// PropertiesUtils.writePropertiesFile do (same insertion order, store with an
// empty comment), after printing java.util.Date.toString() of the given time
// and the JVM's feature version.
const javaProps = `import java.io.*;
import java.util.*;
public class Props {
    public static void main(String[] a) throws Exception {
        System.out.println(Runtime.version().feature());
        System.out.println(new Date(Long.parseLong(a[3])).toString());
        Properties p = new Properties();
        p.setProperty("version", "1");
        p.setProperty("cluster.id", a[0]);
        p.setProperty("node.id", a[1]);
        p.setProperty("directory.id", a[2]);
        StringWriter w = new StringWriter();
        p.store(new PrintWriter(w), "");
        System.out.print(w);
    }
}
`

// TestMarshalMatchesJava compares Marshal with what java.util.Properties
// writes for the same file, when a JDK is installed: the same comment lines
// and key=value lines; on Java 18+ (keys sorted) the same bytes, on Java 17
// the same lines in hash order.
func TestMarshalMatchesJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "Props.java")
	if err := os.WriteFile(src, []byte(javaProps), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-Duser.timezone=UTC", src, clusterID, "3", dirID.String(), strconv.FormatInt(at.UnixMilli(), 10))
	raw, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, raw)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	feature, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	javaDate := strings.TrimSpace(lines[1])
	javaFile := lines[2:]

	if got := at.Format(dateLayout); got != javaDate {
		t.Errorf("date line: Go %q, java.util.Date %q", got, javaDate)
	}
	ours := strings.SplitAfter(string(MetaProperties{Version: 1, ClusterID: clusterID, NodeID: 3, DirectoryID: &dirID}.Marshal(at)), "\n")
	// Java's date comment is the current time; compare it by shape only.
	if len(javaFile) < 2 || javaFile[0] != "#\n" || !strings.HasPrefix(javaFile[1], "#") {
		t.Fatalf("java wrote %q", javaFile)
	}
	javaFile[1] = ours[1]
	if feature >= 18 {
		if strings.Join(javaFile, "") != strings.Join(ours, "") {
			t.Fatalf("Java %d wrote\n%s\nwe write\n%s", feature, strings.Join(javaFile, ""), strings.Join(ours, ""))
		}
		return
	}
	sortedJava, sortedOurs := slices.Clone(javaFile[2:]), slices.Clone(ours[2:])
	slices.Sort(sortedJava)
	slices.Sort(sortedOurs)
	if !slices.Equal(sortedJava, sortedOurs) {
		t.Fatalf("Java %d wrote lines\n%q\nwe write\n%q", feature, javaFile, ours)
	}
	var keys []string
	for _, l := range javaFile[2:] {
		if k, _, ok := strings.Cut(l, "="); ok {
			keys = append(keys, k)
		}
	}
	if want := []string{"node.id", "directory.id", "version", "cluster.id"}; !slices.Equal(keys, want) {
		t.Errorf("Java %d key order %v, the package doc says %v", feature, keys, want)
	}
}
