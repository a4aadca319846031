package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dirPrefix names the temporary directories of private servers, so that the
// ones left by killed test processes can be found and removed.
const dirPrefix = "osprey-testenv-"

// ownerFile in a server's directory holds the pid of the test process that
// owns it.
const ownerFile = "owner.pid"

// server is one child process started by this test process.
type server struct {
	name    string // "mariadb", "zookeeper"
	dir     string // temporary directory, removed by stop
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// startServer runs argv with its output going to logPath. The process gets its
// own process group (a Ctrl-C aimed at `go test` does not reach it directly)
// and SIGKILL when this process dies, so a killed test binary leaves no
// servers behind.
func startServer(name, dir, logPath string, argv []string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s log: %w", name, err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, argv[0], err)
	}
	s := &server{name: name, dir: dir, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop terminates the server and removes its directory.
func (s *server) stop(grace time.Duration) error {
	s.terminate(grace)
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("removing %s directory: %w", s.name, err)
	}
	return nil
}

// terminate asks the server to shut down (SIGTERM), kills it after grace, and
// waits until it has exited.
func (s *server) terminate(grace time.Duration) {
	if !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(grace):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
}

// logTail returns the last n lines of the server's log, for error messages.
func (s *server) logTail(n int) string {
	return tailFile(s.logPath, n)
}

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// registry keeps the servers a test process started, to stop them at the end.
type registry struct {
	mu      sync.Mutex // guards servers and closers
	servers []*server
	closers []func() error // run before the servers stop (client pools)
}

var global = &registry{}

func (r *registry) add(s *server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers = append(r.servers, s)
}

func (r *registry) addCloser(f func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closers = append(r.closers, f)
}

// stopAll closes the clients and stops the servers, newest first.
func (r *registry) stopAll() error {
	r.mu.Lock()
	servers, closers := r.servers, r.closers
	r.servers, r.closers = nil, nil
	r.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	for i := len(servers) - 1; i >= 0; i-- {
		errs = append(errs, servers[i].stop(30*time.Second))
	}
	return errors.Join(errs...)
}

// newServerDir creates a temporary directory for a private server, recording
// this process as its owner. It first removes directories whose owner has
// died. The path stays short: MariaDB's unix socket goes in it.
func newServerDir(kind string) (string, error) {
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("creating %s directory: %w", kind, err)
	}
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(pid), 0o644); err != nil {
		return "", fmt.Errorf("writing %s owner file: %w", kind, err)
	}
	return dir, nil
}

var staleOnce sync.Once

func removeStaleDirs() {
	staleOnce.Do(func() {
		matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
		for _, dir := range matches {
			data, err := os.ReadFile(filepath.Join(dir, ownerFile))
			if err != nil {
				continue // being created right now, or not ours
			}
			pid, err := strconv.Atoi(string(bytes.TrimSpace(data)))
			if err != nil || processAlive(pid) {
				continue
			}
			_ = os.RemoveAll(dir)
		}
	})
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// sbinDirs are searched after PATH: Debian keeps mariadbd in /usr/sbin, which
// is not in a normal user's PATH.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

// lookBin finds the first of names in PATH or in extraDirs.
func lookBin(extraDirs []string, names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range extraDirs {
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("none of %s found in PATH or %s: %s",
		strings.Join(names, ", "), strings.Join(extraDirs, ", "), installHint)
}
