package gitrepo

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// notesTempPrefix starts the name of the temporary directory in $TMPDIR
// that holds the index of one notes write (WriteNote) while it runs; a
// process killed meanwhile leaves it behind.
const notesTempPrefix = "ringflow-notes-"

// TempDir is a directory ringflow made in $TMPDIR for one operation.
type TempDir struct {
	Path    string    // a real path
	ModTime time.Time // of the directory: the last file made or renamed in it
}

// NotesTempDirs lists the temporary index directories of notes writes in
// $TMPDIR that belong to this user (others' cannot be removed anyway),
// whichever repository they were for: each holds only an index, which
// names no repository.
func NotesTempDirs() []TempDir {
	tmp := os.TempDir()
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var out []TempDir
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), notesTempPrefix) {
			continue
		}
		p := filepath.Join(tmp, e.Name())
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
			continue
		}
		out = append(out, TempDir{Path: realPath(p), ModTime: fi.ModTime()})
	}
	return out
}

// RemoveTempDir deletes d with what is in it; removed is false, without
// an error, when it was gone already.
func RemoveTempDir(d TempDir) (removed bool, err error) {
	if _, err := os.Lstat(d.Path); err != nil {
		return false, nil
	}
	if err := removeAllForce(d.Path); err != nil {
		return false, err
	}
	return true, nil
}
