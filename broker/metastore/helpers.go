package metastore

import (
	"context"
	"errors"
	"fmt"
)

// EnsurePath creates path and any missing ancestors as persistent nodes
// with empty data; existing nodes are left as they are.
func EnsurePath(ctx context.Context, s Session, path string) error {
	if err := ValidatePath(path, false); err != nil {
		return err
	}
	if path == "/" {
		return nil
	}
	// Fast path: usually everything but the leaf (or everything) exists.
	if ok, _, err := s.Exists(ctx, path); err != nil {
		return err
	} else if ok {
		return nil
	}
	for _, p := range append(Ancestors(path), path) {
		if _, err := s.Create(ctx, p, nil, Persistent); err != nil && !errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("ensuring %s: %w", path, err)
		}
	}
	return nil
}

// DeleteAll deletes path and everything below it, children first. A node
// missing on the way is not an error; a node created concurrently under
// path may make it fail with ErrNotEmpty.
func DeleteAll(ctx context.Context, s Session, path string) error {
	children, _, err := s.Children(ctx, path)
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := DeleteAll(ctx, s, Join(path, c)); err != nil {
			return err
		}
	}
	if path == "/" {
		return nil
	}
	if err := s.Delete(ctx, path, AnyVersion); err != nil && !errors.Is(err, ErrNoNode) {
		return err
	}
	return nil
}
