package gitrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Loose ref files as git lays them out, for finding and replacing the ones
// a killed writer cut short. A ref file is replaced the way git does it:
// by creating its "<ref>.lock" with O_EXCL, writing it and renaming it over
// the ref, so that no git running at the same time can see half a ref or
// lose an update.

var (
	hexRefRE = regexp.MustCompile(`^[0-9a-f]{40}\n?$`)
	symRefRE = regexp.MustCompile(`^ref: refs/[^\s]+\n?$`)
)

// BrokenRef is a loose ref file that git and go-git cannot read.
type BrokenRef struct {
	Name    string // refs/…
	Path    string
	Content []byte // what it holds instead of a ref
}

// BrokenRefs walks the common directory's refs/ for loose ref files that
// hold neither a 40-hex object name nor "ref: …".
func (r *Repo) BrokenRefs() []BrokenRef {
	commonDir := realPath(r.commonDir)
	var out []BrokenRef
	root := filepath.Join(commonDir, "refs")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".lock") || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(commonDir, p)
		if err != nil {
			return nil
		}
		name := filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil || hexRefRE.Match(b) || symRefRE.Match(b) {
			return nil
		}
		out = append(out, BrokenRef{Name: name, Path: p, Content: b})
		return nil
	})
	return out
}

// ReplaceRefFile swaps the ref file at path for value (a 40-hex commit;
// "" deletes it), but only while it still holds was, under git's own lock:
// "<path>.lock" created with O_EXCL, written, synced and renamed over the
// ref.
func (r *Repo) ReplaceRefFile(path string, was []byte, value string) error {
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lock, err)
	}
	done := false
	defer func() {
		if !done {
			lf.Close()
			os.Remove(lock)
		}
	}()
	cur, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !bytes.Equal(cur, was) {
		return fmt.Errorf("%s changed meanwhile; left alone", path)
	}
	if value == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if _, err := lf.WriteString(value + "\n"); err != nil {
		return err
	}
	if err := lf.Sync(); err != nil {
		return err
	}
	if err := lf.Close(); err != nil {
		return err
	}
	if err := os.Rename(lock, path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LastReflogValue returns the newest value the reflog of ref recorded,
// when that is a commit of the repository, else "": a hint for a person
// restoring the ref by hand.
func (r *Repo) LastReflogValue(ref string) string {
	b, err := os.ReadFile(filepath.Join(realPath(r.commonDir), "logs", filepath.FromSlash(ref)))
	if err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && len(fields[1]) == 40 {
			last = fields[1]
		}
	}
	if last == "" || strings.Trim(last, "0") == "" {
		return ""
	}
	if _, err := r.Commit(last); err != nil {
		return ""
	}
	return last
}
