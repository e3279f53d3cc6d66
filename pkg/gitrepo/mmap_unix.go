//go:build unix

package gitrepo

import (
	"os"
	"syscall"
)

// mapFile maps a whole file read-only. git replaces commit-graph files by
// rename, never in place, so a mapping stays a consistent old version.
func mapFile(path string) (*memReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return &memReader{}, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &memReader{data: data, release: syscall.Munmap}, nil
}
