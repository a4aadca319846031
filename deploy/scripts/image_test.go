package scripts

import (
	"bytes"
	"context"
	"fmt"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildah runs buildah on the test's own vfs storage (no daemon, no overlay).
func buildah(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	all := append([]string{"--storage-driver", "vfs", "--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run")}, args...)
	out, err := exec.CommandContext(ctx, "buildah", all...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHealthy polls /healthz until it answers 200, and returns its body. It returns an error when the
// process ends first (a container runtime that cannot start the container ends at once), and fails
// the test at the deadline.
func waitHealthy(t *testing.T, url string, exited <-chan error, out *bytes.Buffer) (string, error) {
	t.Helper()
	var body string
	var exitErr error
	testenv.WaitFor(t, 90*time.Second, func() error {
		select {
		case err := <-exited:
			exitErr = fmt.Errorf("exited before answering /healthz (%v): %s", err, strings.TrimSpace(out.String()))
			return nil
		default:
		}
		resp, err := http.Get(url)
		if err != nil {
			return fmt.Errorf("the image's osprey did not answer /healthz: %w", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("the image's osprey answered /healthz %s", resp.Status)
		}
		body = string(b)
		return nil
	})
	return body, exitErr
}

// The Dockerfile builds with Debian's buildah, without a Docker daemon and without pulling a base
// image, and the image's binary starts and answers /healthz. The container runs with `buildah run`
// (runc); where the sandbox cannot run a container, the test says why on its output and runs the
// binary from the image's root file system instead, so the image is still checked.
func TestImageBuildsAndAnswersHealthz(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatal("buildah is not installed: deploy/scripts/install-deps.sh installs it (Debian's buildah, runc)")
	}
	root := t.TempDir()
	ctxDir := t.TempDir()
	image := fmt.Sprintf("localhost/osprey-test:%d", time.Now().UnixNano())
	cmd := exec.Command("./image.sh", "build")
	cmd.Env = append(os.Environ(), "OSPREY_BUILDAH_ROOT="+root, "OSPREY_IMAGE_CONTEXT="+ctxDir, "OSPREY_IMAGE="+image)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("image.sh build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// vfs layers belong to root-owned files the temp dir removal may not reach: let buildah remove them.
		_, _ = buildah(t, root, "rm", "--all")
		_, _ = buildah(t, root, "rmi", "--all", "--force")
	})
	inspect, err := buildah(t, root, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}", image)
	if err != nil || inspect != "65532:65532 [/usr/local/bin/osprey] [serve]" {
		t.Fatalf("image config: %q %v", inspect, err)
	}
	ctr, err := buildah(t, root, "from", image)
	if err != nil {
		t.Fatalf("buildah from: %v\n%s", err, ctr)
	}
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	env := []string{"OSPREY_LISTEN=127.0.0.1:" + fmt.Sprint(port), "OSPREY_EMBEDDED_ENABLED=false", "OSPREY_ADMIN_TOKEN=image-test-admin-token-0123"}

	args := []string{"run", "--network", "host"}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	body, err := runUntilHealthy(t, root, url, append(args, ctr, "--", "/usr/local/bin/osprey", "serve"), nil)
	if err == nil {
		t.Log("the image ran as a container (buildah run, runc) and answered /healthz")
	} else {
		// Loud, not a skip: the build was checked, the container runtime is what this machine lacks.
		fmt.Fprintf(os.Stderr, "\n*** image test: `buildah run` cannot run the container here: %v\n"+
			"*** running the image's binary from its mounted root file system instead\n\n", err)
		t.Logf("buildah run failed: %v", err)
		mnt, merr := buildah(t, root, "mount", ctr)
		if merr != nil {
			t.Fatalf("buildah mount: %v\n%s", merr, mnt)
		}
		t.Cleanup(func() { _, _ = buildah(t, root, "umount", ctr) })
		data := t.TempDir()
		body, err = runUntilHealthy(t, "", url, []string{filepath.Join(mnt, "usr/local/bin/osprey"), "serve", "--data-dir", data}, env)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("/healthz: %s", body)
	}
}

// runUntilHealthy starts a command (buildah with root, or the binary itself when root is empty),
// waits for /healthz, then stops it. An error means the command ended before it was healthy.
func runUntilHealthy(t *testing.T, root, url string, argv, env []string) (string, error) {
	t.Helper()
	var cmd *exec.Cmd
	if root != "" {
		cmd = exec.Command("buildah", append([]string{"--storage-driver", "vfs", "--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run")}, argv...)...)
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	body, err := waitHealthy(t, url, exited, &out)
	if err != nil {
		return "", err
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	return body, nil
}

// The compose file validates with Debian's docker-compose (`config` reads and checks it without a daemon).
func TestComposeFileValidates(t *testing.T) {
	dc, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is not installed: deploy/scripts/install-deps.sh installs Debian's docker-compose")
	}
	out, err := exec.Command(dc, "-f", "../docker-compose.yml", "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	// And it does refuse a broken file.
	bad := filepath.Join(t.TempDir(), "compose.yml")
	if err := os.WriteFile(bad, []byte("services:\n  osprey:\n    image: x\n    ports: 8048\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(dc, "-f", bad, "config", "-q").Run(); err == nil {
		t.Fatal("docker-compose accepted a broken compose file")
	}
}
