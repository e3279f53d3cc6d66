//go:build !unix

package gitrepo

import "os"

// mapFile reads a whole file: without mmap this is still far cheaper than
// go-git's many small reads per commit.
func mapFile(path string) (*memReader, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &memReader{data: data}, nil
}
