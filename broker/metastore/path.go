package metastore

import (
	"fmt"
	"strings"
)

// ValidatePath checks that path is a valid znode path as ZooKeeper defines
// it: absolute, no empty, "." or ".." segments, no trailing slash except for
// the root, no NUL or control characters. A sequential create may end in "/"
// (the node is then named by its sequence number alone).
func ValidatePath(path string, sequential bool) error {
	if path == "" || path[0] != '/' {
		return fmt.Errorf("%w: %q is not absolute", ErrInvalidPath, path)
	}
	if path == "/" {
		return nil
	}
	p := path
	if strings.HasSuffix(p, "/") {
		if !sequential {
			return fmt.Errorf("%w: %q ends with a slash", ErrInvalidPath, path)
		}
		p = p[:len(p)-1]
		if p == "" {
			return nil
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: %q has an empty segment", ErrInvalidPath, path)
		case ".", "..":
			return fmt.Errorf("%w: %q has a relative segment", ErrInvalidPath, path)
		}
		for _, r := range seg {
			if r == 0 || (r > 0 && r < 0x1f) || (r >= 0x7f && r <= 0x9f) ||
				(r >= 0xd800 && r <= 0xf8ff) || (r >= 0xfff0 && r <= 0xffff) {
				return fmt.Errorf("%w: %q has an invalid character", ErrInvalidPath, path)
			}
		}
	}
	return nil
}

// ValidateChroot checks a chroot: "" (none) or a valid non-root path.
func ValidateChroot(chroot string) error {
	if chroot == "" {
		return nil
	}
	if chroot == "/" {
		return fmt.Errorf("%w: chroot %q: use \"\" for no chroot", ErrInvalidPath, chroot)
	}
	return ValidatePath(chroot, false)
}

// Parent returns the parent path of a valid path ("/" for top-level nodes
// and for the root itself).
func Parent(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// Base returns the last segment of a valid path ("" for the root).
func Base(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// Join appends name segments to a path: Join("/a", "b", "c") = "/a/b/c".
func Join(path string, names ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(path, "/"))
	for _, n := range names {
		b.WriteByte('/')
		b.WriteString(n)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// WithChroot maps a session path to the server path under chroot.
func WithChroot(chroot, path string) string {
	if chroot == "" {
		return path
	}
	if path == "/" {
		return chroot
	}
	return chroot + path
}

// StripChroot maps a server path under chroot back to a session path. Paths
// outside the chroot are returned unchanged.
func StripChroot(chroot, path string) string {
	if chroot == "" {
		return path
	}
	if path == chroot {
		return "/"
	}
	if strings.HasPrefix(path, chroot+"/") {
		return path[len(chroot):]
	}
	return path
}

// Ancestors returns the proper ancestors of a path from the top down,
// excluding the root: Ancestors("/a/b/c") = ["/a", "/a/b"].
func Ancestors(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i])
		}
	}
	return out
}
